#include <atomic>
#include <stdexcept>
#include <vector>

#include "bus_support.hpp"

namespace {

struct tick {
  std::uint64_t n;
};

/// Messages per second through one subscription of `sys` with the given
/// dedupe window (0: none). `every_256` runs after every 256 publishes and
/// `until_done(done)` returns once the last message is handled.
template <class Pump, class Finish>
double throughput(courier::system& sys, std::size_t window, std::uint64_t messages, Pump every_256,
                  Finish until_done) {
  using namespace courier::bench;
  courier::bus bus{sys};
  std::atomic<int> sinks_left{1};
  done_flag done;
  auto sub = bus.subscribe<tick>("dedupe", sys.spawn<counting_sink<tick>>(messages, sinks_left, done),
                                 {.dedupe_window = window})
                 .value();
  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < messages; ++i) {
    (void)bus.publish("dedupe", tick{i});
    if (i % 256 == 255) every_256();
  }
  until_done(done);
  const double seconds = seconds_since(start);
  if (sub.stats().delivered != messages || sub.stats().duplicates != 0)
    throw std::runtime_error("dedupe/courier: a fresh id was not delivered exactly once");
  return static_cast<double>(messages) / seconds;
}

/// One worker for the one subscriber: the publisher thread and the worker
/// each have a core of a 2-core machine. With a second, idle worker the
/// three threads shared two cores and one stream's rate swung 4x from run to
/// run, far more than the window costs.
double stream_throughput(std::size_t window, std::uint64_t messages) {
  courier::system sys{{.workers = 1}};
  return throughput(sys, window, messages, [] {}, [](courier::bench::done_flag& done) { done.wait(); });
}

/// The same on one thread (a manual_executor, run after every 256
/// publishes): what the window costs in work per message, with no second
/// core to hide it behind.
double one_thread_throughput(std::size_t window, std::uint64_t messages) {
  courier::manual_executor exec;
  courier::system sys{{.exec = &exec}};
  return throughput(sys, window, messages, [&] { exec.run(); }, [&](courier::bench::done_flag&) { exec.run(); });
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
    withouts.push_back(stream_throughput(0, messages));
    withs.push_back(stream_throughput(workload::dedupe_window, messages));
  }
  const double without = median(withouts);
  const double with = median(withs);
  const double one_without = one_thread_throughput(0, messages);
  const double one_with = one_thread_throughput(workload::dedupe_window, messages);
  result r;
  r.ops = messages;
  r.seconds = static_cast<double>(messages) / with;
  r.extra.emplace_back("ops_per_sec_without", without);
  r.extra.emplace_back("ratio_with_to_without", with / without);
  r.extra.emplace_back("one_thread_ratio_with_to_without", one_with / one_without);
  return r;
}
