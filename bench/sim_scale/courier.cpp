// sim_scale: 10^6 actors in one world, one message each, then one virtual
// hour in which every actor wakes on a timer every 10 to 20 minutes.
// Reports wall time for each phase and the peak resident set.
#include <sys/resource.h>

#include <stdexcept>
#include <vector>

#include <courier/runtime/delayed.hpp>
#include <courier/sim.hpp>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;

struct hello {};
struct wake {};

/// Counts its message, then sleeps on a timer until the hour is over.
class sleeper : public courier::actor {
 public:
  using handles = courier::handles<hello, wake>;
  sleeper(courier::sim::world& w, courier::time_point end, std::uint64_t& woken)
      : world_{w}, end_{end}, woken_{woken} {}
  void on(const hello&) { arm(); }
  void on(const wake&) {
    ++woken_;
    arm();
  }

 private:
  void arm() {
    const courier::duration d = 10min + courier::duration{static_cast<courier::duration::rep>(
                                            world_.rng().below(static_cast<std::uint64_t>((10min).count())))};
    if (world_.now() + d <= end_) courier::send_after(world_.sys().timers(), self(), d, wake{});
  }

  courier::sim::world& world_;
  courier::time_point end_;
  std::uint64_t& woken_;
};

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;
}

}  // namespace

COURIER_BENCH("sim_scale", "courier") {
  using namespace courier::bench;
  const std::uint64_t actors = opts.quick ? 100'000 : 1'000'000;
  const auto t0 = clock_type::now();
  courier::sim::world w{{.seed = 1}};
  const courier::time_point end = w.now() + 1h;
  std::uint64_t woken = 0;
  {
    std::vector<courier::actor_ref> refs;
    refs.reserve(actors);
    for (std::uint64_t i = 0; i < actors; ++i) refs.push_back(w.sys().spawn<sleeper>(w, end, woken));
    for (auto& r : refs) r.send(hello{});
  }
  const double spawned_s = seconds_since(t0);
  const auto t1 = clock_type::now();
  w.run_until(w.now());  // every first message; the first timers lie 10 minutes ahead
  const double messages_s = seconds_since(t1);
  const auto t2 = clock_type::now();
  w.run_until(end);
  const double timers_s = seconds_since(t2);
  if (woken == 0) throw std::runtime_error("sim_scale: no timer fired");
  result r;
  r.ops = actors;
  r.seconds = seconds_since(t0);
  r.extra.emplace_back("spawn_seconds", spawned_s);
  r.extra.emplace_back("first_messages_seconds", messages_s);
  r.extra.emplace_back("timer_hour_seconds", timers_s);
  r.extra.emplace_back("timer_wakeups", static_cast<double>(woken));
  r.extra.emplace_back("trace_records", static_cast<double>(w.trace().count()));
  r.extra.emplace_back("peak_rss_mb", peak_rss_bytes() / (1024.0 * 1024.0));
  return r;
}
