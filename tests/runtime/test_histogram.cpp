#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "courier/runtime/histogram.hpp"

using courier::histogram;
using courier::histogram_buckets;

TEST_CASE("histogram buckets are contiguous and tight", "[histogram]") {
  // Every bucket starts right after the previous one ends, and each value
  // lands in the bucket whose bounds hold it.
  for (std::size_t i = 1; i < histogram_buckets::count; ++i) {
    const std::uint64_t lo = histogram_buckets::upper_bound(i - 1) + 1;
    const std::uint64_t hi = histogram_buckets::upper_bound(i);
    REQUIRE(histogram_buckets::index(lo) == i);
    REQUIRE(histogram_buckets::index(hi) == i);
    if (lo >= 8) REQUIRE(hi - lo + 1 <= lo / 8);  // relative width bound
  }
  CHECK(histogram_buckets::index(UINT64_MAX) == histogram_buckets::count - 1);
  CHECK(histogram_buckets::upper_bound(histogram_buckets::count - 1) == UINT64_MAX);
}

TEST_CASE("histogram quantiles are within a bucket of the exact value", "[histogram]") {
  std::mt19937_64 rng(42);
  std::vector<std::uint64_t> values;
  histogram h;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() % 1000000;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  const auto s = h.snapshot();
  REQUIRE(s.count == values.size());
  REQUIRE(s.max == values.back());
  for (double q : {0.5, 0.9, 0.99}) {
    const auto exact = values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
    const auto approx = s.quantile(q);
    CHECK(approx >= exact);
    CHECK(approx <= exact + exact / 8 + 1);
  }
}

TEST_CASE("histogram record_shared counts every value from many threads", "[histogram]") {
  histogram h;
  constexpr int per_thread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < per_thread; ++i) h.record_shared(static_cast<std::uint64_t>(t * 1000 + i % 1000));
    });
  for (auto& th : threads) th.join();
  const auto s = h.snapshot();
  CHECK(s.count == 4u * per_thread);
  CHECK(s.max == 3999);
  std::uint64_t in_buckets = 0;
  for (auto b : s.buckets) in_buckets += b;
  CHECK(in_buckets == s.count);
}
