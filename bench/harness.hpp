// The shared vocabulary of courier-bench: every scenario × implementation pair
// registers one function that runs the same workload and returns a result.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace courier::bench {

struct options {
  bool quick = false;  ///< Run a short version of the workload (CI smoke).
  bool metrics = false;  ///< Turn on the runtime's metrics (system_config::metrics) where a scenario supports it.
};

struct result {
  std::uint64_t ops = 0;  ///< Work items completed (round trips, messages, actors...).
  double seconds = 0;     ///< Wall time of the measured section.
  std::optional<double> p50_ns;
  std::optional<double> p99_ns;
  std::optional<double> bytes_per_actor;
  std::vector<std::pair<std::string, double>> extra;  ///< Scenario-specific fields.
};

using scenario_fn = result (*)(const options&);

/// Registers `fn` as implementation `impl` of `scenario`; use COURIER_BENCH.
struct registration {
  registration(const char* scenario, const char* impl, scenario_fn fn);
};

struct entry {
  std::string scenario;
  std::string impl;
  scenario_fn fn;
};
std::vector<entry>& registry();

#define COURIER_BENCH_CAT2(a, b) a##b
#define COURIER_BENCH_CAT(a, b) COURIER_BENCH_CAT2(a, b)
/// Defines and registers the function that runs SCENARIO for IMPL.
#define COURIER_BENCH(SCENARIO, IMPL)                                                        \
  static ::courier::bench::result COURIER_BENCH_CAT(bench_, __LINE__)(                       \
      const ::courier::bench::options&);                                                     \
  static const ::courier::bench::registration COURIER_BENCH_CAT(bench_reg_, __LINE__){       \
      SCENARIO, IMPL, &COURIER_BENCH_CAT(bench_, __LINE__)};                                 \
  static ::courier::bench::result COURIER_BENCH_CAT(bench_, __LINE__)(                       \
      [[maybe_unused]] const ::courier::bench::options& opts)

/// The middle of `v` (the upper middle for an even count); 0 when empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// Worker threads every runtime gets: the reference machine has two cores.
inline constexpr unsigned workers = 2;

/// The workload sizes every implementation of a scenario must use.
namespace workload {
inline std::uint64_t pingpong_round_trips(const options& o) { return o.quick ? 100'000 : 1'000'000; }
inline std::uint64_t n1_per_producer(const options& o) { return o.quick ? 200'000 : 2'000'000; }
inline constexpr int n1_producers = 2;
inline std::uint64_t spawn_actors(const options& o) { return o.quick ? 100'000 : 1'000'000; }
/// skynet: a tree with fan-out 10 whose leaves number 10^depth.
inline constexpr std::uint64_t skynet_fan_out = 10;
inline int skynet_depth(const options& o) { return o.quick ? 5 : 6; }
inline std::uint64_t idle_actors(const options& o) { return o.quick ? 100'000 : 1'000'000; }
/// idle_cpu: how long a freshly woken, then idle, runtime is watched.
inline std::chrono::milliseconds idle_window(const options& o) {
  return std::chrono::milliseconds{o.quick ? 200 : 2000};
}
/// fanout: one publisher, this many subscribers, each getting every message.
inline constexpr int fanout_subscribers = 100;
inline std::uint64_t fanout_messages(const options& o) { return o.quick ? 10'000 : 100'000; }
/// pubsub: one publisher thread, one subscriber, 16-byte messages.
inline std::uint64_t pubsub_messages(const options& o) { return o.quick ? 100'000 : 1'000'000; }
inline std::uint64_t reqrep_round_trips(const options& o) { return o.quick ? 10'000 : 100'000; }
/// routing: publishes timed at each subscription count, each matching one subscription.
inline std::uint64_t routing_publishes(const options& o) { return o.quick ? 100'000 : 1'000'000; }
inline constexpr std::uint64_t routing_subscriptions[] = {10, 1'000, 100'000};
/// dedupe: messages with distinct ids, twice the window so it fills and then evicts.
inline constexpr std::size_t dedupe_window = 1'000'000;
inline std::uint64_t dedupe_messages(const options& o) { return o.quick ? 200'000 : 2 * dedupe_window; }
}  // namespace workload

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Collects latency samples in nanoseconds and reports percentiles.
class latency_samples {
 public:
  explicit latency_samples(std::size_t reserve = 0) { ns_.reserve(reserve); }
  void add(double ns) { ns_.push_back(ns); }
  void add(clock_type::duration d) { ns_.push_back(std::chrono::duration<double, std::nano>(d).count()); }
  [[nodiscard]] double percentile(double p) {
    if (ns_.empty()) return 0;
    auto k = static_cast<std::size_t>(p * static_cast<double>(ns_.size() - 1));
    std::nth_element(ns_.begin(), ns_.begin() + static_cast<std::ptrdiff_t>(k), ns_.end());
    return ns_[k];
  }
  void fill(result& r) {
    r.p50_ns = percentile(0.50);
    r.p99_ns = percentile(0.99);
  }

 private:
  std::vector<double> ns_;
};

/// Resident set size of this process in bytes (from /proc/self/statm).
std::size_t resident_bytes();

/// User plus system CPU time this process has used, in seconds.
double cpu_seconds();

/// The idle_cpu measurement: watches the process for the workload's window
/// while the caller's runtime has nothing to do, and reports the CPU it
/// burnt as `cpu_percent` (of one core). Call it once the runtime's workers
/// have just handled a message, so any spin-before-park is inside the window.
result measure_idle_cpu(const options& o);

}  // namespace courier::bench
