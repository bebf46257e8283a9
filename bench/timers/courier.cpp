#include <chrono>
#include <cstdint>
#include <vector>

#include <courier/runtime/random.hpp>
#include <courier/runtime/timer_wheel.hpp>

#include "harness.hpp"

namespace {

using courier::bench::clock_type;

double ns_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

}  // namespace

// n timers with deadlines spread over an hour. A first round schedules and cancels them all
// on a fresh wheel (cold_ns_per_op: page faults and vector growth included). The measured
// round reuses the wheel, as a long-running runtime does: it schedules n, cancels every other
// one, and advances virtual time past the rest so they fire. ns_per_op is one schedule plus
// one cancel in that round, with up to n timers pending.
COURIER_BENCH("timers", "courier") {
  using namespace std::chrono_literals;
  const std::uint64_t n = opts.quick ? 100'000 : 1'000'000;
  courier::splitmix64 rng{42};
  std::vector<courier::time_point> deadlines(n);
  for (auto& d : deadlines) d = courier::time_point{1ms + courier::duration{rng.below(courier::duration{1h}.count())}};
  std::vector<courier::timer_id> ids(n);
  courier::timer_wheel wheel;

  const auto cold_start = clock_type::now();
  for (std::uint64_t i = 0; i < n; ++i) ids[i] = wheel.schedule(deadlines[i], i);
  for (std::uint64_t i = 0; i < n; ++i) wheel.cancel(ids[i]);
  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < n; ++i) ids[i] = wheel.schedule(deadlines[i], i);
  const auto scheduled = clock_type::now();
  std::uint64_t cancelled = 0;
  for (std::uint64_t i = 0; i < n; i += 2) cancelled += wheel.cancel(ids[i]) ? 1 : 0;
  const auto cancels_done = clock_type::now();
  std::uint64_t checksum = 0;
  const std::uint64_t fired =
      wheel.advance(courier::time_point{1h + 1ms}, [&](std::uint64_t token) { checksum += token; });
  const auto end = clock_type::now();

  const double schedule_ns = ns_between(start, scheduled) / static_cast<double>(n);
  const double cancel_ns = ns_between(scheduled, cancels_done) / static_cast<double>(cancelled);
  courier::bench::result r;
  r.ops = cancelled + fired;
  r.seconds = ns_between(start, end) / 1e9;
  r.extra.push_back({"ns_per_op", schedule_ns + cancel_ns});
  r.extra.push_back({"schedule_ns", schedule_ns});
  r.extra.push_back({"cancel_ns", cancel_ns});
  r.extra.push_back({"fire_ns", ns_between(cancels_done, end) / static_cast<double>(fired)});
  r.extra.push_back({"cold_ns_per_op", ns_between(cold_start, start) / static_cast<double>(n)});
  r.extra.push_back({"all_fired_once", wheel.pending() == 0 && checksum == (n / 2) * (n / 2) ? 1.0 : 0.0});
  return r;
}
