#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <courier/bus/flat_dedupe.hpp>
#include <courier/courier.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "courier/runtime/random.hpp"
#include "responders.hpp"
#include "runtime/test_support.hpp"

using namespace std::chrono_literals;

// window_dedupe_store makes room before it looks, so it checks an id against
// max_ids - 1 others: given one more slot, it is the reference for this store.
TEST_CASE("flat_dedupe_store answers every insert and contains as window_dedupe_store one id wider does", "[bus][dedupe]") {
  COURIER_TEST_SEED(seed);
  // Windows of 11 to 30 ids share two or three 15-slot buckets, so buckets
  // fill, spill into the next one (wrapping at the end) and empty again.
  const std::size_t window = GENERATE(1, 2, 7, 11, 20, 30, 64, 1000);
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
    // contains() asks what insert() would answer, and changes nothing.
    const bool model_knew = model.contains(id, now), flat_knew = flat.contains(id, now);
    const bool expected = model.insert(id, now);
    accepted += expected ? 1 : 0;
    if (model_knew == expected) ++mismatches;
    if (flat_knew == expected) ++mismatches;
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

TEST_CASE("flat_dedupe_store remembers an id for exactly max_age", "[bus][dedupe]") {
  courier::flat_dedupe_store store{16, 10s};
  const courier::time_point start{};
  const courier::uuid id{7, 7};
  REQUIRE(store.insert(id, start));
  CHECK_FALSE(store.insert(id, start + 10s));  // max_age old: still remembered
  CHECK(store.insert(id, start + 10s + 1ns));  // older than that: forgotten, so new again
  CHECK(store.size() == 1);                   // the expired copy made way for the new one
}

TEST_CASE("flat_dedupe_store forgets ids in arrival order as they age out", "[bus][dedupe]") {
  courier::flat_dedupe_store store{100, 10s};
  const courier::time_point start{};
  for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(store.insert(courier::uuid{3, i}, start + std::chrono::seconds{i}));
  // At start + 15.5s the ids inserted at 0..5 s are older than 10 s; 6..9 s are not.
  CHECK(store.insert(courier::uuid{4, 0}, start + 15s + 500ms));
  CHECK(store.size() == 5);
  for (std::uint64_t i = 6; i < 10; ++i) CHECK_FALSE(store.insert(courier::uuid{3, i}, start + 15s + 500ms));
  for (std::uint64_t i = 0; i < 6; ++i) CHECK(store.insert(courier::uuid{3, i}, start + 15s + 500ms));
}

TEST_CASE("flat_dedupe_store tells apart ids that differ in one half only", "[bus][dedupe]") {
  // UUIDv7 ids from one millisecond share most of their high half.
  courier::flat_dedupe_store store{50'000, 1h};
  const courier::time_point now{};
  for (std::uint64_t i = 0; i < 20'000; ++i) REQUIRE(store.insert(courier::uuid{0x0190'0000'0000'7000, i}, now));
  for (std::uint64_t i = 0; i < 20'000; ++i) REQUIRE(store.insert(courier::uuid{i, 0x8000'0000'0000'0000}, now));
  for (std::uint64_t i = 0; i < 20'000; i += 97) {
    CHECK_FALSE(store.insert(courier::uuid{0x0190'0000'0000'7000, i}, now));
    CHECK_FALSE(store.insert(courier::uuid{i, 0x8000'0000'0000'0000}, now));
  }
  CHECK(store.size() == 40'000);
}

TEST_CASE("flat_dedupe_store keeps a window of real UUIDv7 ids exact while it evicts", "[bus][dedupe]") {
  constexpr std::size_t window = 50'000;
  courier::flat_dedupe_store store{window, 1h};
  const courier::time_point now{};
  std::vector<courier::uuid> ids(3 * window);
  for (auto& id : ids) id = courier::uuid::v7();
  for (const auto& id : ids) REQUIRE(store.insert(id, now));
  CHECK(store.size() == window);
  std::uint64_t wrong = 0;
  // The remembered first: a forgotten id, new again, evicts the oldest of them.
  for (std::size_t i = ids.size() - window; i < ids.size(); i += 7)
    if (store.insert(ids[i], now)) ++wrong;
  for (std::size_t i = 0; i < ids.size() - window; i += 7)
    if (!store.insert(ids[i], now)) ++wrong;
  CHECK(wrong == 0);
}

namespace {

struct tick {
  int n;
};

class ignore_ticks : public courier::actor {
 public:
  using handles = courier::handles<tick>;
  void on(const tick&) {}
};

/// Records, in order, which ids it was asked to prefetch and to insert.
class logging_store final : public courier::dedupe_store {
 public:
  bool insert(const courier::uuid& id, courier::time_point now) override {
    calls.emplace_back("insert", id);
    return inner_.insert(id, now);
  }
  [[nodiscard]] bool contains(const courier::uuid& id, courier::time_point now) const override {
    return inner_.contains(id, now);
  }
  void prefetch(const courier::uuid& id) const noexcept override { calls.emplace_back("prefetch", id); }
  [[nodiscard]] std::size_t size() const override { return inner_.size(); }

  mutable std::vector<std::pair<std::string, courier::uuid>> calls;

 private:
  courier::flat_dedupe_store inner_{16, std::chrono::minutes{1}};
};

}  // namespace

TEST_CASE("the subscriber asks its dedupe store to prefetch the next id before it inserts one", "[bus][dedupe]") {
  courier::test::virtual_bus f{11};
  auto store = std::make_shared<logging_store>();
  auto sub = f.bus.subscribe<tick>("t", f.sys.spawn<ignore_ticks>(), {.dedupe = store}).value();
  const courier::uuid a = courier::uuid::v7(), b = courier::uuid::v7();
  (void)f.bus.publish("t", tick{1}, {.id = a});
  (void)f.bus.publish("t", tick{2}, {.id = b});
  (void)f.bus.publish("t", tick{3}, {.id = a});
  f.exec.run();
  using call = std::pair<std::string, courier::uuid>;
  // All three wait in the mailbox when the turn starts; the last has no successor.
  CHECK(store->calls ==
        std::vector<call>{{"prefetch", b}, {"insert", a}, {"prefetch", a}, {"insert", b}, {"insert", a}});
  CHECK(sub.stats().duplicates == 1);
}
