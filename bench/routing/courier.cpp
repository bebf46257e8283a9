#include <string>
#include <vector>

#include <fmt/format.h>

#include "bus_support.hpp"

namespace {

struct tick {
  std::uint64_t n;
};

/// Subjects published in turn; each matches exactly one `route.<i>.*` subscription.
constexpr std::uint64_t hot_subjects = 16;

/// Nanoseconds per publish, from the first publish until the last is handled,
/// with `subscriptions` wildcard subscriptions on the bus.
double ns_per_publish(std::uint64_t subscriptions, std::uint64_t publishes) {
  using namespace courier::bench;
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  std::atomic<int> sinks_left{1};
  done_flag done;
  auto sink = sys.spawn<counting_sink<tick>>(publishes, sinks_left, done);
  std::vector<courier::subscription> subs;
  subs.reserve(subscriptions);
  for (std::uint64_t i = 0; i < subscriptions; ++i)
    subs.push_back(bus.subscribe<tick>(fmt::format("route.{}.*", i), sink).value());
  std::vector<std::string> subjects;
  for (std::uint64_t k = 0; k < hot_subjects; ++k)
    subjects.push_back(fmt::format("route.{}.x", k * subscriptions / hot_subjects));

  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < publishes; ++i) (void)bus.publish(subjects[i % hot_subjects], tick{i});
  done.wait();
  return seconds_since(start) * 1e9 / static_cast<double>(publishes);
}

}  // namespace

COURIER_BENCH("routing", "courier") {
  using namespace courier::bench;
  const std::uint64_t publishes = workload::routing_publishes(opts);
  result r;
  double first = 0, last = 0;
  for (std::uint64_t subs : workload::routing_subscriptions) {
    last = ns_per_publish(subs, publishes);
    if (first == 0) first = last;
    r.extra.emplace_back(fmt::format("ns_per_publish_{}", subs), last);
  }
  r.ops = publishes;
  r.seconds = last * static_cast<double>(publishes) * 1e-9;  // the largest subscription count's run
  r.extra.emplace_back("ratio_1e5_to_10", last / first);
  return r;
}
