#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>

#include <courier/runtime/random.hpp>
#include <courier/runtime/timer_wheel.hpp>

namespace {

using namespace std::chrono_literals;
using courier::duration;
using courier::time_point;

constexpr std::size_t offset_count = 4096;

/// Offsets spread over an hour, precomputed so the timed loops measure the wheel only.
std::array<duration, offset_count> spread_offsets() {
  courier::splitmix64 rng{7};
  std::array<duration, offset_count> out{};
  for (auto& d : out) d = 1ms + duration{rng.below(duration{1h}.count())};
  return out;
}

/// One schedule and one cancel, with range(0) other timers pending.
void timer_wheel_schedule_cancel(benchmark::State& state) {
  courier::timer_wheel wheel;
  const auto offsets = spread_offsets();
  const auto background = static_cast<std::uint64_t>(state.range(0));
  for (std::uint64_t i = 0; i < background; ++i) wheel.schedule(time_point{offsets[i % offset_count]}, i);
  std::uint64_t k = 0;
  for (auto _ : state) {
    const courier::timer_id id = wheel.schedule(time_point{offsets[k % offset_count]}, k);
    benchmark::DoNotOptimize(wheel.cancel(id));
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(timer_wheel_schedule_cancel)->Arg(0)->Arg(100'000)->Arg(1'000'000);

/// range(0) timers scheduled over an hour, then fired by one advance past them all.
void timer_wheel_schedule_fire(benchmark::State& state) {
  courier::timer_wheel wheel;
  const auto offsets = spread_offsets();
  const auto batch = static_cast<std::uint64_t>(state.range(0));
  time_point now{};
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < batch; ++i) wheel.schedule(now + offsets[i % offset_count], i);
    now += 1h + 1ms;
    benchmark::DoNotOptimize(wheel.advance(now, [](std::uint64_t token) { benchmark::DoNotOptimize(token); }));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(timer_wheel_schedule_fire)->Arg(1)->Arg(1024)->Arg(65'536);

/// A timer that re-arms itself every millisecond, fired by one-millisecond advances.
void timer_wheel_periodic_tick(benchmark::State& state) {
  courier::timer_wheel wheel;
  time_point now{};
  wheel.schedule(now + 1ms, 0);
  for (auto _ : state) {
    now += 1ms;
    wheel.advance(now, [&](std::uint64_t token, time_point deadline) { wheel.schedule(deadline + 1ms, token); });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(timer_wheel_periodic_tick);

}  // namespace
