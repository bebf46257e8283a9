#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "courier/bus/router.hpp"

using namespace courier;
using ids = std::vector<sub_id>;

namespace {

ids match_ids(const router& r, std::string_view subject) {
  auto m = r.match(subject);
  REQUIRE(m);
  REQUIRE(m.value() != nullptr);
  return *m.value();
}

/// The seed from COURIER_TEST_SEED, or a fresh random one.
std::uint64_t test_seed() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any test thread starts.
  if (const char* env = std::getenv("COURIER_TEST_SEED")) return std::strtoull(env, nullptr, 0);
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

/// Random subjects and patterns over a tiny alphabet, so that matches are common.
class subject_gen {
 public:
  explicit subject_gen(std::uint64_t seed) : rng_(seed) {}

  std::string subject() {
    std::string s;
    const int n = pick(1, 5);
    for (int i = 0; i < n; ++i) {
      if (i > 0) s += '.';
      s += literal();
    }
    return s;
  }

  std::string pattern() {
    std::string s;
    const int n = pick(1, 5);
    for (int i = 0; i < n; ++i) {
      if (i > 0) s += '.';
      const int kind = pick(0, 99);
      if (i == n - 1 && kind < 15) {
        s += ">";
      } else if (kind < 40) {
        s += "*";
      } else {
        s += literal();
      }
    }
    return s;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>{lo, hi}(rng_); }

 private:
  char literal() { return static_cast<char>('a' + pick(0, 3)); }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("a subscription receives the subjects its pattern matches") {
  router r;
  REQUIRE(r.add("orders.*.placed", 1));
  REQUIRE(r.add("orders.>", 2));
  REQUIRE(r.add("orders.eu.placed", 3));
  REQUIRE(r.add(">", 4));
  CHECK(match_ids(r, "orders.eu.placed") == ids{1, 2, 3, 4});
  CHECK(match_ids(r, "orders.us.placed") == ids{1, 2, 4});
  CHECK(match_ids(r, "orders.eu.shipped") == ids{2, 4});
  CHECK(match_ids(r, "orders") == ids{4});
  CHECK(match_ids(r, "inventory.stock") == ids{4});
  CHECK(r.size() == 4);
}

TEST_CASE("match returns each id once, in ascending order") {
  router r;
  REQUIRE(r.add("a.b", 30));
  REQUIRE(r.add("a.*", 10));
  REQUIRE(r.add("*.b", 30));
  REQUIRE(r.add("a.>", 20));
  REQUIRE(r.add(">", 10));
  CHECK(match_ids(r, "a.b") == ids{10, 20, 30});
  CHECK(r.size() == 5);
}

TEST_CASE("a subject nobody subscribed to matches an empty set") {
  router r;
  CHECK(match_ids(r, "nobody.home").empty());
  REQUIRE(r.add("foo.>", 1));
  CHECK(match_ids(r, "foo").empty());
}

TEST_CASE("adding a pair twice is a no-op, and one remove undoes it") {
  router r;
  REQUIRE(r.add("foo.*", 7));
  const auto gen = r.generation();
  REQUIRE(r.add("foo.*", 7));
  CHECK(r.generation() == gen);
  CHECK(r.size() == 1);
  CHECK(r.remove("foo.*", 7));
  CHECK(match_ids(r, "foo.bar").empty());
  CHECK(r.size() == 0);
}

TEST_CASE("remove returns false for an absent pair and changes nothing") {
  router r;
  REQUIRE(r.add("foo.bar", 1));
  const auto gen = r.generation();
  CHECK_FALSE(r.remove("foo.bar", 2));
  CHECK_FALSE(r.remove("foo.*", 1));
  CHECK_FALSE(r.remove("foo.bar.baz", 1));
  CHECK_FALSE(r.remove("foo", 1));
  CHECK_FALSE(r.remove("foo..bar", 1));
  CHECK(r.generation() == gen);
  CHECK(r.size() == 1);
  CHECK(match_ids(r, "foo.bar") == ids{1});
}

TEST_CASE("removing a prefix pattern leaves longer patterns intact") {
  router r;
  REQUIRE(r.add("a.b", 1));
  REQUIRE(r.add("a.b.c", 2));
  REQUIRE(r.add("a.>", 3));
  REQUIRE(r.add("a.*.c", 4));
  CHECK(r.remove("a.b", 1));
  CHECK(match_ids(r, "a.b.c") == ids{2, 3, 4});
  CHECK(r.remove("a.b.c", 2));
  CHECK(r.remove("a.>", 3));
  CHECK(match_ids(r, "a.b.c") == ids{4});
  CHECK(match_ids(r, "a.b").empty());
  CHECK(r.remove("a.*.c", 4));
  CHECK(r.size() == 0);
  REQUIRE(r.add("a.b.c", 5));
  CHECK(match_ids(r, "a.b.c") == ids{5});
}

TEST_CASE("add rejects an invalid pattern and match rejects an invalid subject") {
  router r;
  for (std::string_view p : {"", "foo.", "a b", "foo.>.bar", "a*"}) {
    CAPTURE(p);
    CHECK(r.add(p, 1).error() == errc::invalid_subject);
  }
  CHECK(r.size() == 0);
  CHECK(r.generation() == 0);
  for (std::string_view s : {"", "foo.*", "foo.>", "a..b", "tab\there"}) {
    CAPTURE(s);
    CHECK(r.match(s).error() == errc::invalid_subject);
  }
  CHECK(r.match(std::string(max_subject_length + 1, 'x')).error() == errc::invalid_subject);
}

TEST_CASE("an unchanged router answers repeated matches from its cache") {
  router r;
  REQUIRE(r.add("foo.*", 1));
  auto first = r.match("foo.bar");
  auto second = r.match("foo.bar");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first.value() == second.value());
}

TEST_CASE("add and remove invalidate cached match results") {
  router r;
  CHECK(match_ids(r, "foo.bar").empty());
  const auto gen = r.generation();
  REQUIRE(r.add("foo.*", 1));
  CHECK(r.generation() == gen + 1);
  CHECK(match_ids(r, "foo.bar") == ids{1});
  REQUIRE(r.add("foo.bar", 2));
  CHECK(match_ids(r, "foo.bar") == ids{1, 2});
  CHECK(r.remove("foo.*", 1));
  CHECK(r.generation() == gen + 3);
  CHECK(match_ids(r, "foo.bar") == ids{2});
  CHECK(r.remove("foo.bar", 2));
  CHECK(match_ids(r, "foo.bar").empty());
}

TEST_CASE("an add on another thread invalidates this thread's cached result") {
  router r;
  CHECK(match_ids(r, "foo.bar").empty());
  bool changed = false;
  std::thread{[&] { changed = static_cast<bool>(r.add("foo.>", 9)); }}.join();
  REQUIRE(changed);
  CHECK(match_ids(r, "foo.bar") == ids{9});
  std::thread{[&] { changed = r.remove("foo.>", 9); }}.join();
  REQUIRE(changed);
  CHECK(match_ids(r, "foo.bar").empty());
}

TEST_CASE("results stay correct when the cache is tiny or disabled") {
  const std::size_t capacity = GENERATE(0, 1, 2);
  CAPTURE(capacity);
  router r{{.cache_capacity = capacity}};
  REQUIRE(r.add("s.*", 1));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) CHECK(match_ids(r, "s." + std::to_string(i)) == ids{1});
  }
  REQUIRE(r.add("s.3", 2));
  CHECK(match_ids(r, "s.3") == ids{1, 2});
  CHECK(match_ids(r, "s.4") == ids{1});
}

TEST_CASE("routers never see each other's cached results") {
  std::vector<std::unique_ptr<router>> routers;
  for (sub_id i = 0; i < 20; ++i) {
    routers.push_back(std::make_unique<router>());
    REQUIRE(routers.back()->add("x.*", i));
  }
  for (int round = 0; round < 3; ++round) {
    for (sub_id i = 0; i < 20; ++i) CHECK(match_ids(*routers[i], "x.y") == ids{i});
  }
  for (sub_id i = 0; i < 50; ++i) {
    router fresh;
    CHECK(match_ids(fresh, "x.y").empty());
    REQUIRE(fresh.add("x.y", 1000 + i));
    CHECK(match_ids(fresh, "x.y") == ids{1000 + i});
  }
}

TEST_CASE("the trie agrees with matches() on random patterns and subjects") {
  const std::uint64_t seed = test_seed();
  CAPTURE(seed);
  subject_gen gen{seed};
  constexpr int rounds = 100;
  constexpr int subjects_per_phase = 500;
  std::size_t checked = 0;
  for (int round = 0; round < rounds; ++round) {
    router r{{.cache_capacity = static_cast<std::size_t>(gen.pick(0, 64))}};
    std::set<std::pair<std::string, sub_id>> subs;
    for (int i = 0; i < 60; ++i) {
      auto pair = std::make_pair(gen.pattern(), static_cast<sub_id>(gen.pick(0, 40)));
      REQUIRE(r.add(pair.first, pair.second));
      subs.insert(pair);
    }
    for (int phase = 0; phase < 2; ++phase) {
      REQUIRE(r.size() == subs.size());
      for (int i = 0; i < subjects_per_phase; ++i) {
        const std::string subject = gen.subject();
        std::set<sub_id> expected;
        for (const auto& [pattern, id] : subs) {
          if (matches(pattern, subject)) expected.insert(id);
        }
        const ids got = match_ids(r, subject);
        if (got != ids(expected.begin(), expected.end())) {
          CAPTURE(round, phase, subject, got, expected);
          FAIL("trie and matches() disagree");
        }
        ++checked;
      }
      for (auto it = subs.begin(); it != subs.end();) {
        if (gen.pick(0, 1) == 0) {
          REQUIRE(r.remove(it->first, it->second));
          it = subs.erase(it);
        } else {
          ++it;
        }
      }
      REQUIRE_FALSE(r.remove(gen.pattern(), 41));
    }
  }
  CHECK(checked == std::size_t{rounds} * 2 * subjects_per_phase);
}

TEST_CASE("concurrent matches see a consistent snapshot while a writer adds and removes") {
  const int readers = GENERATE(1, 2, 4, 16);
  CAPTURE(readers);
  constexpr sub_id churn_base = 100;
  constexpr sub_id decoy_base = 1'000'000;
  constexpr sub_id sticky_base = 10'000;
  constexpr int writes = 2'000;

  router r{{.cache_capacity = 8}};
  REQUIRE(r.add("orders.*.placed", 1));
  REQUIRE(r.add("orders.>", 2));

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0};
  std::mutex failure_mutex;
  std::string failure;
  auto fail = [&](std::string why) {
    std::lock_guard lock{failure_mutex};
    if (failure.empty()) failure = std::move(why);
  };

  auto reader = [&](int index) {
    sub_id max_churn = 0;
    std::size_t sticky_seen = 0;
    std::uint64_t n = 0;
    while (!done.load(std::memory_order_acquire) || n < 100) {
      ++n;
      const std::string other =
          "orders.x" + std::to_string((n + static_cast<std::uint64_t>(index)) % 12) + ".placed";
      auto side = r.match(other);
      if (!side || *side.value() != ids{1, 2})
        fail("a stable subject lost or gained ids: " + other);
      auto m = r.match("orders.eu.placed");
      if (!m) return fail("match failed");
      const ids& got = *m.value();
      std::size_t churn = 0;
      std::size_t sticky = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (i > 0 && got[i - 1] >= got[i]) return fail("ids not ascending and unique");
        const sub_id id = got[i];
        if (id >= decoy_base) return fail("a `>` pattern matched zero trailing tokens");
        if (id >= sticky_base) {
          if (id != sticky_base + sticky) return fail("sticky ids are not a prefix");
          ++sticky;
        } else if (id >= churn_base) {
          if (++churn > 1 || id < max_churn) return fail("churn went backwards or overlapped");
          max_churn = id;
        }
      }
      if (got.size() < 2 || got[0] != 1 || got[1] != 2)
        return fail("a never-removed subscription vanished");
      if (sticky < sticky_seen) return fail("a sticky subscription vanished");
      sticky_seen = sticky;
    }
    reads.fetch_add(n, std::memory_order_relaxed);
  };

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(readers));
  for (int i = 0; i < readers; ++i) threads.emplace_back(reader, i);
  bool writes_ok = true;
  for (int k = 0; k < writes; ++k) {
    const sub_id churn = churn_base + static_cast<sub_id>(k);
    const sub_id decoy = decoy_base + static_cast<sub_id>(k);
    writes_ok &= r.add("orders.eu.placed", churn).has_value();
    writes_ok &= r.add("orders.eu.placed.>", decoy).has_value();
    writes_ok &= r.remove("orders.eu.placed", churn);
    writes_ok &= r.remove("orders.eu.placed.>", decoy);
    if (k % 100 == 0)
      writes_ok &= r.add("orders.eu.*", sticky_base + static_cast<sub_id>(k / 100)).has_value();
  }
  done.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  REQUIRE(writes_ok);
  CAPTURE(failure, reads.load());
  CHECK(failure.empty());
  CHECK(match_ids(r, "orders.eu.placed").size() == 2 + writes / 100);
  CHECK(r.size() == 2 + writes / 100);
}

TEST_CASE("a writer is not starved by readers that miss the cache continuously") {
  const int readers = GENERATE(4, 16);
  CAPTURE(readers);
  router r{{.cache_capacity = 0}};
  REQUIRE(r.add("load.>", 1));
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(readers));
  for (int i = 0; i < readers; ++i) {
    threads.emplace_back([&] {
      while (!done.load(std::memory_order_relaxed)) (void)r.match("load.a.b.c");
    });
  }
  bool writes_ok = true;
  for (sub_id k = 2; k < 2'000; ++k) {
    writes_ok &= r.add("load.*.b.>", k).has_value();
    writes_ok &= r.remove("load.*.b.>", k);
  }
  done.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  CHECK(writes_ok);
  CHECK(r.size() == 1);
}
