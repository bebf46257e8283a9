#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace courier {

/// Log-linear bucketing of 64-bit values (nanoseconds, bytes, depths):
/// values below 8 get a bucket each; above, every power of two splits into
/// 8 sub-buckets, so a bucket's width is at most 1/8 of its lower bound
/// (quantiles are within 12.5%). 496 buckets cover the whole 64-bit range.
struct histogram_buckets {
  static constexpr unsigned sub_bits = 3;
  static constexpr unsigned sub_count = 1u << sub_bits;
  static constexpr std::size_t count = (64 - sub_bits + 1) * sub_count;

  [[nodiscard]] static constexpr std::size_t index(std::uint64_t v) noexcept {
    if (v < sub_count) return static_cast<std::size_t>(v);
    const unsigned top = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= sub_bits
    const unsigned shift = top - sub_bits;
    const auto sub = static_cast<std::size_t>((v >> shift) & (sub_count - 1));
    return (shift + 1) * sub_count + sub;
  }
  /// The largest value that lands in bucket `i` (inclusive).
  [[nodiscard]] static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i < sub_count) return i;
    const std::size_t shift = i / sub_count - 1;
    const std::uint64_t sub = i % sub_count;
    const std::uint64_t lower = (sub_count + sub) << shift;
    return lower + ((std::uint64_t{1} << shift) - 1);
  }
};

/// A plain copy of a histogram, for reading, merging and export.
struct histogram_snapshot {
  std::array<std::uint64_t, histogram_buckets::count> buckets{};
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  std::uint64_t max = 0;

  void merge(const histogram_snapshot& other) noexcept {
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    count += other.count;
    sum += other.sum;
    if (other.max > max) max = other.max;
  }
  /// The upper bound of the bucket holding the q-quantile (0 <= q <= 1), capped at max.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
    if (count == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= rank) {
        const std::uint64_t ub = histogram_buckets::upper_bound(i);
        return ub < max ? ub : max;
      }
    }
    return max;
  }
  [[nodiscard]] double mean() const noexcept {
    return count == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(count);
  }
};

/// A histogram that any thread can read at any time while writers record.
///
/// `record` is for a single writer (a per-worker slot): plain relaxed loads
/// and stores, no read-modify-write, so it costs a few nanoseconds.
/// `record_shared` is for many writers and uses fetch_add.
class histogram {
 public:
  void record(std::uint64_t v) noexcept {
    bump(buckets_[histogram_buckets::index(v)], 1);
    bump(count_, 1);
    bump(sum_, v);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
  }

  void record_shared(std::uint64_t v) noexcept {
    buckets_[histogram_buckets::index(v)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (v > seen && !max_.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
    }
  }

  /// Adds this histogram's current contents to `out`.
  void add_to(histogram_snapshot& out) const noexcept {
    for (std::size_t i = 0; i < buckets_.size(); ++i)
      out.buckets[i] += buckets_[i].load(std::memory_order_relaxed);
    out.count += count_.load(std::memory_order_relaxed);
    out.sum += sum_.load(std::memory_order_relaxed);
    const std::uint64_t m = max_.load(std::memory_order_relaxed);
    if (m > out.max) out.max = m;
  }

  [[nodiscard]] histogram_snapshot snapshot() const noexcept {
    histogram_snapshot s;
    add_to(s);
    return s;
  }

 private:
  static void bump(std::atomic<std::uint64_t>& a, std::uint64_t by) noexcept {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, histogram_buckets::count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace courier
