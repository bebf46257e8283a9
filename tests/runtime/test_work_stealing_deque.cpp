#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "courier/runtime/random.hpp"
#include "courier/runtime/work_stealing_deque.hpp"
#include "test_support.hpp"

using deque = courier::work_stealing_deque<std::uint64_t>;

TEST_CASE("work_stealing_deque pops LIFO at the bottom and steals FIFO at the top") {
  deque d{4};
  CHECK(d.empty());
  CHECK_FALSE(d.pop());
  CHECK_FALSE(d.steal());
  for (std::uint64_t v = 1; v <= 4; ++v) d.push(v);
  CHECK(d.size_approx() == 4);
  CHECK(d.pop() == std::optional<std::uint64_t>{4});
  CHECK(d.steal() == std::optional<std::uint64_t>{1});
  CHECK(d.pop() == std::optional<std::uint64_t>{3});
  CHECK(d.steal() == std::optional<std::uint64_t>{2});
  CHECK_FALSE(d.pop());
  CHECK_FALSE(d.steal());
  CHECK(d.empty());
}

TEST_CASE("work_stealing_deque grows from capacity 2 and keeps every item in order") {
  deque d{2};
  constexpr std::uint64_t n = 1000;
  // Steal a few first so that top is not at slot 0 when the buffer grows.
  for (std::uint64_t v = 0; v < 3; ++v) d.push(v);
  CHECK(d.steal() == std::optional<std::uint64_t>{0});
  for (std::uint64_t v = 3; v < n; ++v) d.push(v);
  CHECK(d.size_approx() == n - 1);
  for (std::uint64_t v = 1; v < n / 2; ++v) CHECK(d.steal() == std::optional<std::uint64_t>{v});
  for (std::uint64_t v = n - 1; v >= n / 2; --v) CHECK(d.pop() == std::optional<std::uint64_t>{v});
  CHECK(d.empty());
}

TEST_CASE("work_stealing_deque: popped and stolen together are exactly the pushed items",
          "[stress]") {
  COURIER_TEST_SEED(seed);
  const std::uint64_t n = courier::test::scaled(GENERATE(1'000u, 10'000u, 100'000u, 1'000'000u), 1'000);
  const unsigned thieves = GENERATE(1u, 2u, 3u);
  CAPTURE(n, thieves);

  deque d{2};
  std::atomic<bool> done{false};
  std::atomic<unsigned> ready{0};
  std::vector<std::vector<std::uint64_t>> stolen(thieves);
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < thieves; ++k) {
    threads.emplace_back([&, k] {
      courier::splitmix64 rng{seed ^ (0x7417ULL + k)};
      auto& mine = stolen[k];
      ready.fetch_add(1);
      while (!done.load(std::memory_order_acquire)) {
        if (auto v = d.steal())
          mine.push_back(*v);
        else if (rng.below(4) == 0)
          std::this_thread::yield();
      }
    });
  }
  while (ready.load() != thieves) std::this_thread::yield();

  // The owner alternates runs of pushes and pops of random lengths, so the
  // deque repeatedly grows, drains and races thieves for its last item.
  courier::splitmix64 rng{seed};
  std::vector<std::uint64_t> popped;
  std::uint64_t next = 0;
  while (next < n) {
    for (auto run = rng.below(64) + 1; run > 0 && next < n; --run) d.push(next++);
    for (auto run = rng.below(48); run > 0; --run) {
      if (auto v = d.pop()) popped.push_back(*v);
    }
  }
  while (auto v = d.pop()) popped.push_back(*v);
  // pop() returns nothing once top passed bottom: every item was taken by
  // the owner or by a thief whose CAS succeeded.
  done.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  std::vector<std::uint32_t> seen(n, 0);
  std::uint64_t out_of_range = 0, total = popped.size();
  auto tally = [&](const std::vector<std::uint64_t>& vs) {
    for (auto v : vs) {
      if (v >= n) ++out_of_range;
      else ++seen[v];
    }
  };
  tally(popped);
  std::uint64_t stolen_total = 0;
  for (auto& s : stolen) {
    tally(s);
    stolen_total += s.size();
  }
  total += stolen_total;
  std::uint64_t lost = 0, duplicated = 0;
  for (auto c : seen) {
    lost += c == 0;
    duplicated += c > 1;
  }
  CAPTURE(popped.size(), stolen_total);
  CHECK(out_of_range == 0);
  CHECK(lost == 0);
  CHECK(duplicated == 0);
  CHECK(total == n);
  CHECK(d.empty());
}
