#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <courier/bus/flat_dedupe.hpp>
#include <stdexcept>
#include <vector>

#include "courier/runtime/random.hpp"
#include "runtime/test_support.hpp"

using namespace std::chrono_literals;

// window_dedupe_store makes room before it looks, so it checks an id against
// max_ids - 1 others: given one more slot, it is the reference for this store.
TEST_CASE("flat_dedupe_store answers every insert as window_dedupe_store one id wider does", "[bus][dedupe]") {
  COURIER_TEST_SEED(seed);
  const std::size_t window = GENERATE(1, 2, 7, 64, 1000);
  CAPTURE(window);
  courier::splitmix64 rng{seed ^ window};
  // A pool three windows wide: ids repeat inside the window, and after it.
  std::vector<courier::uuid> pool(3 * window);
  for (auto& id : pool) id = courier::uuid{rng.next(), rng.next()};
  const courier::duration max_age = 50ms;
  courier::window_dedupe_store model{window + 1, max_age};
  courier::flat_dedupe_store flat{window, max_age};
  courier::time_point now{};
  std::uint64_t mismatches = 0, accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    if (rng.next() % 8 == 0) now += std::chrono::milliseconds{rng.next() % 20};  // sometimes ages ids out
    const courier::uuid& id = pool[rng.next() % pool.size()];
    const bool expected = model.insert(id, now);
    accepted += expected ? 1 : 0;
    if (flat.insert(id, now) != expected || flat.size() != std::min(model.size(), window)) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(accepted > 0);
  CHECK(accepted < 200'000);  // the run did see duplicates
}

TEST_CASE("flat_dedupe_store forgets the oldest id once max_ids newer ones arrived", "[bus][dedupe]") {
  constexpr std::size_t window = 100'000;
  courier::flat_dedupe_store store{window, 1h};
  const courier::time_point now{};
  for (std::uint64_t i = 0; i < window; ++i) REQUIRE(store.insert(courier::uuid{1, i}, now));
  CHECK(store.size() == window);
  CHECK_FALSE(store.insert(courier::uuid{1, 0}, now));           // still in the window
  CHECK(store.insert(courier::uuid{2, 0}, now));                 // pushes out {1, 0}
  CHECK(store.insert(courier::uuid{1, 0}, now));                 // forgotten, so new again
  CHECK_FALSE(store.insert(courier::uuid{1, window - 1}, now));  // the newest stay
  CHECK(store.size() == window);
}

TEST_CASE("flat_dedupe_store refuses an empty or oversized window at construction", "[bus][dedupe]") {
  CHECK_THROWS_AS(courier::flat_dedupe_store(0, 1s), std::invalid_argument);
  CHECK_THROWS_AS(courier::flat_dedupe_store(courier::flat_dedupe_store::max_window + 1, 1s), std::invalid_argument);
}
