#include <stdexcept>
#include <thread>

#include "bus_support.hpp"

namespace {

struct message {
  std::uint64_t seq;
  std::uint64_t value;
};
static_assert(sizeof(message) == 16);

/// Checks that messages arrive in publish order and raises `done` after the last.
class in_order_sink final : public courier::actor {
 public:
  using handles = courier::handles<message>;
  in_order_sink(std::uint64_t expected, bool& in_order, courier::bench::done_flag& done)
      : expected_{expected}, in_order_{in_order}, done_{done} {}
  void on(const message& m) {
    in_order_ &= m.seq == next_;
    if (++next_ == expected_) done_.raise();
  }

 private:
  std::uint64_t expected_;
  std::uint64_t next_ = 0;
  bool& in_order_;
  courier::bench::done_flag& done_;
};

}  // namespace

COURIER_BENCH("pubsub", "courier") {
  using namespace courier::bench;
  const std::uint64_t messages = workload::pubsub_messages(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  bool in_order = true;
  done_flag done;
  auto sub = bus.subscribe<message>("pubsub", sys.spawn<in_order_sink>(messages, in_order, done)).value();

  const auto start = clock_type::now();
  std::thread publisher([&] {
    for (std::uint64_t seq = 0; seq < messages; ++seq) (void)bus.publish("pubsub", message{seq, seq * 2});
  });
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  publisher.join();
  if (!in_order) throw std::runtime_error("pubsub/courier: messages arrived out of order");
  r.ops = messages;
  return r;
}
