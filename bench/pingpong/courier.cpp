#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct ball {
  std::uint64_t n;
};
struct serve {
  courier::actor_ref partner;
};

class pong : public courier::actor {
 public:
  using handles = courier::handles<serve, ball>;
  void on(const serve& s) { partner_ = s.partner; }
  void on(const ball& b) { partner_.send(ball{b.n}); }

 private:
  courier::actor_ref partner_;
};

class ping : public courier::actor {
 public:
  using handles = courier::handles<ball>;
  ping(std::uint64_t rounds, courier::actor_ref partner, courier::bench::latency_samples& lat,
       courier::bench::done_flag& done)
      : rounds_{rounds}, partner_{std::move(partner)}, lat_{lat}, done_{done} {
    partner_.send(serve{self()});
  }
  // Every 16th round trip is timed on its own: two clock reads per 16 trips.
  void on(const ball& b) {
    const std::uint64_t n = b.n;
    if ((n & 15) == 0 && n > 0) lat_.add(courier::bench::clock_type::now() - sent_at_);
    if (n + 1 == rounds_) return done_.raise();
    if (((n + 1) & 15) == 0) sent_at_ = courier::bench::clock_type::now();
    partner_.send(ball{n + 1});
  }

 private:
  std::uint64_t rounds_;
  courier::actor_ref partner_;
  courier::bench::latency_samples& lat_;
  courier::bench::done_flag& done_;
  courier::bench::clock_type::time_point sent_at_{};
};

}  // namespace

COURIER_BENCH("pingpong", "courier") {
  using namespace courier::bench;
  const std::uint64_t rounds = workload::pingpong_round_trips(opts);
  courier::system_config cfg = bench_system();
  cfg.metrics = opts.metrics;
  courier::system sys{std::move(cfg)};
  latency_samples lat{rounds / 16 + 1};
  done_flag done;
  auto p = sys.spawn<pong>();
  auto start = clock_type::now();
  auto q = sys.spawn<ping>(rounds, p, lat, done);
  q.send(ball{0});
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = rounds;
  lat.fill(r);
  // Shows the counters ran: about two handler calls per round trip.
  if (opts.metrics) r.extra.emplace_back("handled", static_cast<double>(sys.metrics().snapshot().total.handled));
  return r;
}
