// Request and reply types, and responders, shared by the bus tests.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <utility>

#include <courier/courier.hpp>

namespace courier::test {

/// A bus on a deterministic executor and virtual time: nothing runs or
/// expires until the test says so.
struct virtual_bus {
  explicit virtual_bus(std::uint64_t seed, courier::bus_config cfg = {})
      : exec{{.seed = seed}}, bus{sys, std::move(cfg)} {}
  courier::manual_executor exec;
  courier::virtual_clock clk;
  courier::virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  courier::bus bus;
};

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
