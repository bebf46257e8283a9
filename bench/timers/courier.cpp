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

// Schedules n timers with deadlines spread over an hour, cancels every other one, then
// advances virtual time past them all so the rest fire. ns_per_op is the cost of one
// schedule plus one cancel with n timers pending.
COURIER_BENCH("timers", "courier") {
  using namespace std::chrono_literals;
  const std::uint64_t n = opts.quick ? 100'000 : 1'000'000;
  courier::splitmix64 rng{42};
  std::vector<courier::time_point> deadlines(n);
  for (auto& d : deadlines) d = courier::time_point{1ms + courier::duration{rng.below(std::chrono::nanoseconds{1h}.count())}};
  std::vector<courier::timer_id> ids(n);
  courier::timer_wheel wheel;
  wheel.reserve(n);

  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < n; ++i) ids[i] = wheel.schedule(deadlines[i], i);
  const auto scheduled = clock_type::now();
  std::uint64_t cancelled = 0;
  for (std::uint64_t i = 0; i < n; i += 2) cancelled += wheel.cancel(ids[i]) ? 1 : 0;
  const auto cancels_done = clock_type::now();
  std::uint64_t checksum = 0;
  const std::uint64_t fired = wheel.advance(courier::time_point{1h + 1ms}, [&](std::uint64_t token) { checksum += token; });
  const auto end = clock_type::now();

  const double schedule_ns = ns_between(start, scheduled) / static_cast<double>(n);
  const double cancel_ns = ns_between(scheduled, cancels_done) / static_cast<double>(cancelled);
  const double fire_ns = ns_between(cancels_done, end) / static_cast<double>(fired);
  courier::bench::result r;
  r.ops = cancelled + fired;
  r.seconds = ns_between(start, end) / 1e9;
  r.extra.push_back({"ns_per_op", schedule_ns + cancel_ns});
  r.extra.push_back({"schedule_ns", schedule_ns});
  r.extra.push_back({"cancel_ns", cancel_ns});
  r.extra.push_back({"fire_ns", fire_ns});
  r.extra.push_back({"pending_after", static_cast<double>(wheel.pending())});
  r.extra.push_back({"checksum_ok", checksum == (n / 2) * (n / 2) ? 1.0 : 0.0});
  return r;
}
