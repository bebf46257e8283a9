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

/// One publisher thread publishes to one subscriber actor subscribed with `so`.
courier::bench::result run(const courier::bench::options& opts, courier::subscribe_options so) {
  using namespace courier::bench;
  const std::uint64_t messages = workload::pubsub_messages(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  const bool bounded = so.capacity != 0;
  bool in_order = true;
  done_flag done;
  auto sub =
      bus.subscribe<message>("pubsub", sys.spawn<in_order_sink>(messages, in_order, done), std::move(so)).value();

  const auto start = clock_type::now();
  std::uint64_t failed = 0;
  std::thread publisher([&] {
    for (std::uint64_t seq = 0; seq < messages; ++seq)
      if (bus.publish("pubsub", message{seq, seq * 2}) != courier::errc::ok) ++failed;
  });
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  publisher.join();
  if (!in_order) throw std::runtime_error("pubsub/courier: messages arrived out of order");
  if (failed != 0) throw std::runtime_error("pubsub/courier: a publish failed");
  r.ops = messages;
  if (bounded) r.extra.emplace_back("max_depth", static_cast<double>(sub.stats().max_depth));
  return r;
}

}  // namespace

// The default subscription: unbounded, so the publisher may run ahead.
COURIER_BENCH("pubsub", "courier") { return run(opts, {}); }

// Bounded to 1024 queued messages; a full subscription blocks the publisher.
COURIER_BENCH("pubsub", "courier_bounded") {
  return run(opts, {.capacity = 1024, .policy = courier::overflow::block, .block_timeout = std::chrono::seconds{30}});
}
