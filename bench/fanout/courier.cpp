#include <vector>

#include "bus_support.hpp"

namespace {

struct tick {
  std::uint64_t n;
};

}  // namespace

COURIER_BENCH("fanout", "courier") {
  using namespace courier::bench;
  const std::uint64_t messages = workload::fanout_messages(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  std::atomic<int> sinks_left{workload::fanout_subscribers};
  done_flag done;
  std::vector<courier::subscription> subs;
  for (int i = 0; i < workload::fanout_subscribers; ++i)
    subs.push_back(bus.subscribe<tick>("fanout", sys.spawn<counting_sink<tick>>(messages, sinks_left, done)).value());

  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < messages; ++i) (void)bus.publish("fanout", tick{i});
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = messages * workload::fanout_subscribers;
  return r;
}
