#include <array>
#include <stdexcept>
#include <thread>
#include <vector>

// The queue header is not on a system include path, so silence its
// -Wnull-dereference false positives for -Werror builds.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <concurrentqueue.h>
#pragma GCC diagnostic pop

#include "harness.hpp"

COURIER_BENCH("n1", "raw") {
  namespace workload = courier::bench::workload;
  using courier::bench::clock_type;
  const auto per_producer = workload::n1_per_producer(opts);
  const auto total = per_producer * workload::n1_producers;
  moodycamel::ConcurrentQueue<std::uint64_t> queue;
  std::uint64_t sum = 0;
  clock_type::time_point end;

  const auto start = clock_type::now();
  std::thread consumer([&] {
    moodycamel::ConsumerToken token{queue};
    std::array<std::uint64_t, 256> batch;
    for (std::uint64_t received = 0; received < total;) {
      const auto n = queue.try_dequeue_bulk(token, batch.begin(), batch.size());
      if (n == 0) std::this_thread::yield();
      for (std::size_t i = 0; i < n; ++i) sum += batch[i];
      received += n;
    }
    end = clock_type::now();
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < workload::n1_producers; ++p) {
    producers.emplace_back([&] {
      moodycamel::ProducerToken token{queue};
      for (std::uint64_t i = 0; i < per_producer; ++i) queue.enqueue(token, i);
    });
  }
  for (auto& t : producers) t.join();
  consumer.join();

  if (sum != workload::n1_producers * (per_producer * (per_producer - 1) / 2))
    throw std::runtime_error("n1/raw: consumer received the wrong sum");
  courier::bench::result r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops = total;
  return r;
}
