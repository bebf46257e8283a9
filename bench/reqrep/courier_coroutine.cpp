// reqrep with the requester written as a coroutine handler: one task awaits
// bus.co_request round trip after round trip.
#include <chrono>
#include <stdexcept>

#include "bus_support.hpp"

namespace {

using courier::bench::clock_type;

struct ask {
  std::uint64_t x;
};
struct answer {
  std::uint64_t y;
};
struct start {};

class server final : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  answer on(const ask& a) { return {a.x + 1}; }
};

/// Awaits one request at a time and times each round trip until it resumes here.
class requester final : public courier::actor {
 public:
  using handles = courier::handles<start>;
  requester(courier::bus& bus, std::uint64_t rounds, courier::bench::latency_samples& lat,
            std::uint64_t& failures, courier::bench::done_flag& done)
      : bus_{bus}, rounds_{rounds}, lat_{lat}, failures_{failures}, done_{done} {}

  courier::task<> on(const start&) {
    for (std::uint64_t i = 0; i < rounds_; ++i) {
      const auto sent_at = clock_type::now();
      courier::reply<answer> r =
          co_await bus_.co_request<answer>("reqrep", ask{i}, std::chrono::seconds{5});
      lat_.add(clock_type::now() - sent_at);
      if (!r || r->y != i + 1) ++failures_;
    }
    done_.raise();
  }

 private:
  courier::bus& bus_;
  std::uint64_t rounds_;
  courier::bench::latency_samples& lat_;
  std::uint64_t& failures_;
  courier::bench::done_flag& done_;
};

}  // namespace

COURIER_BENCH("reqrep", "courier-coroutine") {
  using namespace courier::bench;
  const std::uint64_t rounds = workload::reqrep_round_trips(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  latency_samples lat{rounds};
  std::uint64_t failures = 0;
  done_flag done;
  auto srv = bus.serve<ask>("reqrep", sys.spawn<server>()).value();

  const auto start_at = clock_type::now();
  auto client = sys.spawn<requester>(bus, rounds, lat, failures, done);
  client.send(start{});
  done.wait();
  result r;
  r.seconds = seconds_since(start_at);
  r.ops = rounds;
  lat.fill(r);
  if (failures != 0) throw std::runtime_error("reqrep/courier-coroutine: failed or wrong replies");
  return r;
}
