// Request and reply types, and responders, shared by the bus tests.
#pragma once

#include <stdexcept>

#include <courier/courier.hpp>

namespace courier::test {

struct ask {
  int n;
};
struct answer {
  int n;
};

/// Replies with twice the request; throws on a negative one.
class doubler : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  answer on(const ask& a) {
    if (a.n < 0) throw std::runtime_error("negative");
    return {a.n * 2};
  }
};

/// Takes requests and never replies.
class silent : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  void on(const ask&) {}
};

}  // namespace courier::test
