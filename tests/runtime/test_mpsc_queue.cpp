#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "courier/runtime/mpsc_queue.hpp"
#include "courier/runtime/random.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace {

struct item : courier::mpsc_hook {
  std::uint32_t producer = 0;
  std::uint32_t seq = 0;
};

item* pop_item(courier::mpsc_queue& q) { return static_cast<item*>(q.pop()); }

// Per-item life cycle, written by the producer before the push and by the
// consumer after the pop; the queue's release/acquire pair orders the two.
enum : std::uint8_t { fresh = 0, enqueued = 1, dequeued = 2 };

// Spins or yields for a random while, so producers interleave differently
// for every seed.
void pace(courier::splitmix64& rng) {
  auto r = rng.next();
  if ((r & 0xff) == 0) {
    std::this_thread::yield();
  } else if ((r & 0x1f) == 0) {
    for (auto spins = (r >> 8) & 0x3ff; spins > 0; --spins) std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

}  // namespace

TEST_CASE("mpsc_queue starts empty and pop on an empty queue returns nullptr") {
  courier::mpsc_queue q;
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
  CHECK(q.empty());
}

TEST_CASE("mpsc_queue pops a single producer's items in push order") {
  courier::mpsc_queue q;
  std::vector<item> items(100);
  for (std::uint32_t round = 0; round < 3; ++round) {
    for (std::uint32_t i = 0; i < items.size(); ++i) {
      items[i].seq = i;
      q.push(&items[i]);
      CHECK_FALSE(q.empty());
    }
    for (std::uint32_t i = 0; i < items.size(); ++i) {
      item* it = pop_item(q);
      REQUIRE(it != nullptr);
      CHECK(it->seq == i);
    }
    CHECK(q.pop() == nullptr);
    CHECK(q.empty());
  }
}

TEST_CASE("mpsc_queue interleaves pushes and pops without losing the last item") {
  courier::mpsc_queue q;
  item a, b, c;
  q.push(&a);
  CHECK(pop_item(q) == &a);
  CHECK(q.empty());
  q.push(&b);
  q.push(&c);
  CHECK(pop_item(q) == &b);
  CHECK_FALSE(q.empty());
  q.push(&a);
  CHECK(pop_item(q) == &c);
  CHECK(pop_item(q) == &a);
  CHECK(q.pop() == nullptr);
  CHECK(q.empty());
}

TEST_CASE("mpsc_queue under 4 producers delivers every item exactly once and in each producer's order",
          "[stress]") {
  COURIER_TEST_SEED(seed);
  constexpr std::uint32_t producers = 4;
  const auto per_producer = static_cast<std::uint32_t>(courier::test::scaled(2'500'000, 10'000));
  CAPTURE(per_producer);

  std::vector<std::unique_ptr<item[]>> items(producers);
  std::vector<std::unique_ptr<std::uint8_t[]>> state(producers);
  for (std::uint32_t p = 0; p < producers; ++p) {
    items[p] = std::make_unique<item[]>(per_producer);
    state[p] = std::make_unique<std::uint8_t[]>(per_producer);  // zeroed: fresh
    for (std::uint32_t i = 0; i < per_producer; ++i) {
      items[p][i].producer = p;
      items[p][i].seq = i;
    }
  }

  courier::mpsc_queue q;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      courier::splitmix64 rng{seed + p};
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uint32_t i = 0; i < per_producer; ++i) {
        pace(rng);
        state[p][i] = enqueued;
        q.push(&items[p][i]);
      }
    });
  }

  // The consumer runs here, on the test thread, so that it may assert.
  courier::splitmix64 rng{seed + producers};
  std::vector<std::uint32_t> next_seq(producers, 0);
  const std::uint64_t total = std::uint64_t{producers} * per_producer;
  std::uint64_t consumed = 0, empty_polls = 0, duplicates = 0, reordered = 0, foreign = 0;
  const auto deadline = courier::test::in(300s);
  go.store(true, std::memory_order_release);
  while (consumed < total) {
    item* it = pop_item(q);
    if (it == nullptr) {
      ++empty_polls;
      if ((empty_polls & 0xfff) == 0 && std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
      continue;
    }
    pace(rng);
    ++consumed;
    if (it->producer >= producers || it->seq >= per_producer) {
      ++foreign;
      continue;
    }
    auto& st = state[it->producer][it->seq];
    if (st != enqueued) ++duplicates;
    st = dequeued;
    if (it->seq != next_seq[it->producer]) ++reordered;
    next_seq[it->producer] = it->seq + 1;
  }
  for (auto& t : threads) t.join();

  CHECK(consumed == total);
  CHECK(foreign == 0);
  CHECK(duplicates == 0);
  CHECK(reordered == 0);
  CHECK(q.pop() == nullptr);
  CHECK(q.empty());
  std::uint64_t not_dequeued = 0;
  for (std::uint32_t p = 0; p < producers; ++p)
    for (std::uint32_t i = 0; i < per_producer; ++i) not_dequeued += state[p][i] != dequeued;
  CHECK(not_dequeued == 0);
}

TEST_CASE("a confined mpsc_queue keeps the same order and empty states as a shared one") {
  // The confined operations replace the locked exchange with a load and a
  // store; run both kinds through one script of pushes and pops.
  courier::mpsc_queue shared_q, confined_q;
  std::vector<item> a(64), b(64);
  courier::splitmix64 rng{7};
  std::uint32_t pushed = 0, popped = 0;
  for (int step = 0; step < 10'000; ++step) {
    const bool push = pushed - popped < a.size() && (pushed == popped || rng.below(2) == 0);
    if (push) {
      const std::size_t slot = pushed % a.size();
      a[slot].seq = b[slot].seq = pushed++;
      shared_q.push(&a[slot]);
      confined_q.push<courier::sharing::confined>(&b[slot]);
    } else {
      item* x = pop_item(shared_q);
      item* y = static_cast<item*>(confined_q.pop<courier::sharing::confined>());
      REQUIRE(x != nullptr);
      REQUIRE(y != nullptr);
      CHECK(x->seq == popped);
      CHECK(y->seq == popped);
      ++popped;
    }
    REQUIRE(shared_q.empty() == confined_q.empty());
    REQUIRE(confined_q.empty() == (pushed == popped));
  }
  while (popped < pushed) {
    auto* y = static_cast<item*>(confined_q.pop<courier::sharing::confined>());
    REQUIRE(y != nullptr);
    CHECK(y->seq == popped++);
  }
  CHECK(confined_q.pop<courier::sharing::confined>() == nullptr);
  CHECK(confined_q.empty());
}
