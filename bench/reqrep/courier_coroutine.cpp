// reqrep with the requester written as a coroutine handler: one task awaits
// bus.co_request round trip after round trip.
#include "reqrep/courier_workload.hpp"

namespace {

using courier::bench::clock_type;
using namespace courier::bench::reqrep;

struct start {};

/// Awaits one request at a time and times each round trip until it resumes here.
class requester final : public courier::actor {
 public:
  using handles = courier::handles<start>;
  requester(courier::bus& bus, std::uint64_t rounds, tally& t) : bus_{bus}, rounds_{rounds}, tally_{t} {
    self().send(start{});
  }

  courier::task<> on(const start&) {
    for (std::uint64_t i = 0; i < rounds_; ++i) {
      const auto sent_at = clock_type::now();
      courier::reply<answer> r = co_await bus_.co_request<answer>("reqrep", ask{i}, std::chrono::seconds{5});
      tally_.lat.add(clock_type::now() - sent_at);
      if (!r || r->y != i + 1) ++tally_.failures;
    }
    tally_.done.raise();
  }

 private:
  courier::bus& bus_;
  std::uint64_t rounds_;
  tally& tally_;
};

}  // namespace

COURIER_BENCH("reqrep", "courier-coroutine") { return run<requester>(opts, "courier-coroutine"); }
