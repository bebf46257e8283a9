#include <stdexcept>
#include <vector>

#include "bus_support.hpp"

namespace {

struct tick {
  std::uint64_t n;
};

/// Messages per second through one subscription with the given dedupe window (0: none).
double throughput(std::size_t window, std::uint64_t messages) {
  using namespace courier::bench;
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  std::atomic<int> sinks_left{1};
  done_flag done;
  auto sub = bus.subscribe<tick>("dedupe", sys.spawn<counting_sink<tick>>(messages, sinks_left, done),
                                 {.dedupe_window = window})
                 .value();
  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < messages; ++i) (void)bus.publish("dedupe", tick{i});
  done.wait();
  const double seconds = seconds_since(start);
  if (sub.stats().delivered != messages || sub.stats().duplicates != 0)
    throw std::runtime_error("dedupe/courier: a fresh id was not delivered exactly once");
  return static_cast<double>(messages) / seconds;
}

}  // namespace

// Runs with and without the window alternate, three of each, and the ratio
// is of their medians: one stream's rate swings with where the workers and
// the publisher land, more than the window costs.
COURIER_BENCH("dedupe", "courier") {
  using namespace courier::bench;
  const std::uint64_t messages = workload::dedupe_messages(opts);
  const int rounds = opts.quick ? 1 : 3;
  std::vector<double> withouts, withs;
  for (int i = 0; i < rounds; ++i) {
    withouts.push_back(throughput(0, messages));
    withs.push_back(throughput(workload::dedupe_window, messages));
  }
  const double without = median(withouts);
  const double with = median(withs);
  result r;
  r.ops = messages;
  r.seconds = static_cast<double>(messages) / with;
  r.extra.emplace_back("ops_per_sec_without", without);
  r.extra.emplace_back("ratio_with_to_without", with / without);
  return r;
}
