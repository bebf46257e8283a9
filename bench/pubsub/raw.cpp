#include <array>
#include <stdexcept>
#include <thread>

// The queue header is not on a system include path, so silence its
// -Wnull-dereference false positives for -Werror builds.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <concurrentqueue.h>
#pragma GCC diagnostic pop

#include "harness.hpp"

namespace {

struct message {
  std::uint64_t seq;
  std::uint64_t value;
};
static_assert(sizeof(message) == 16);

}  // namespace

COURIER_BENCH("pubsub", "raw") {
  using courier::bench::clock_type;
  const std::uint64_t messages = courier::bench::workload::pubsub_messages(opts);
  moodycamel::ConcurrentQueue<message> queue;
  bool in_order = true;
  clock_type::time_point end;

  const auto start = clock_type::now();
  std::thread consumer([&] {
    moodycamel::ConsumerToken token{queue};
    std::array<message, 256> batch;
    for (std::uint64_t next = 0; next < messages;) {
      const auto n = queue.try_dequeue_bulk(token, batch.begin(), batch.size());
      if (n == 0) std::this_thread::yield();
      for (std::size_t i = 0; i < n; ++i, ++next) in_order &= batch[i].seq == next;
    }
    end = clock_type::now();
  });
  std::thread producer([&] {
    moodycamel::ProducerToken token{queue};
    for (std::uint64_t seq = 0; seq < messages; ++seq) queue.enqueue(token, message{seq, seq * 2});
  });
  producer.join();
  consumer.join();

  if (!in_order) throw std::runtime_error("pubsub/raw: messages arrived out of order");
  courier::bench::result r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops = messages;
  return r;
}
