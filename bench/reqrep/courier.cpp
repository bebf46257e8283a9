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
/// A reply (or its error) forwarded to the requester as a message.
struct outcome {
  courier::reply<answer> r;
};

class server final : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  answer on(const ask& a) { return {a.x + 1}; }
};

/// Sends one request at a time and times each round trip until the reply is handled here.
class requester final : public courier::actor {
 public:
  using handles = courier::handles<outcome>;
  requester(courier::bus& bus, std::uint64_t rounds, courier::bench::latency_samples& lat,
            std::uint64_t& failures, courier::bench::done_flag& done)
      : bus_{bus}, rounds_{rounds}, lat_{lat}, failures_{failures}, done_{done} {
    ask_next();
  }
  void on(const outcome& o) {
    lat_.add(clock_type::now() - sent_at_);
    if (!o.r || o.r->y != completed_ + 1) ++failures_;
    if (++completed_ == rounds_) return done_.raise();
    ask_next();
  }

 private:
  void ask_next() {
    sent_at_ = clock_type::now();
    bus_.request<answer>("reqrep", ask{completed_}, std::chrono::seconds{5},
                         [me = self()](courier::reply<answer> r) { me.send(outcome{std::move(r)}); });
  }

  courier::bus& bus_;
  std::uint64_t rounds_;
  courier::bench::latency_samples& lat_;
  std::uint64_t& failures_;
  courier::bench::done_flag& done_;
  std::uint64_t completed_ = 0;
  clock_type::time_point sent_at_{};
};

}  // namespace

COURIER_BENCH("reqrep", "courier") {
  using namespace courier::bench;
  const std::uint64_t rounds = workload::reqrep_round_trips(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  latency_samples lat{rounds};
  std::uint64_t failures = 0;
  done_flag done;
  auto srv = bus.serve<ask>("reqrep", sys.spawn<server>()).value();

  const auto start = clock_type::now();
  auto client = sys.spawn<requester>(bus, rounds, lat, failures, done);
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = rounds;
  lat.fill(r);
  if (failures != 0) throw std::runtime_error("reqrep/courier: failed or wrong replies");
  return r;
}
