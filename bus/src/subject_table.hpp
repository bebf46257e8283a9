#pragma once

// Per-subject counters for bus metrics.
//
// The publish hot path must not serialise publishers, so:
// - Counters are relaxed atomics on an entry that lives as long as the table;
//   publishers of different subjects touch different cache lines.
// - Each thread keeps, per table, a map from subject to entry: a hit costs one
//   hash lookup, no lock and no write to shared memory. Entries are never
//   removed, so a cached pointer never dangles while its table lives.
// - A miss takes the table's lock (shared to find, exclusive to insert). At
//   most `max_subjects` entries are made; later subjects share one entry with
//   an empty subject, so memory stays bounded whatever subjects are published.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "courier/bus/metrics.hpp"
#include "courier/runtime/histogram.hpp"
#include "per_thread.hpp"

namespace courier::detail {

/// Hashes subjects, and string_views for lookups without a copy.
struct subject_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// The live counters of one subject.
struct subject_counters {
  std::atomic<std::uint64_t> published{0}, unroutable{0};
  // A subscriber that checks its dedupe window counts these two in its own
  // turn: a cache line apart from what publishers write.
  alignas(64) std::atomic<std::uint64_t> delivered{0}, duplicates{0};
  alignas(64) std::atomic<std::uint64_t> newest{0}, oldest{0}, rejected{0}, timed_out{0}, dead_lettered{0};
  std::atomic<std::uint64_t> requests{0}, request_timeouts{0}, no_responders{0}, request_failures{0};

  subject_counters() = default;
  subject_counters(const subject_counters&) = delete;
  subject_counters& operator=(const subject_counters&) = delete;
  ~subject_counters() { delete latency_.load(std::memory_order_acquire); }

  /// Records one request's round trip; allocates the histogram on first use. @threadsafe
  void record_latency(std::uint64_t ns) noexcept;
  /// Copies the counters into `out` (the subject itself is left alone).
  void read(subject_metrics& out) const noexcept;

 private:
  std::atomic<histogram*> latency_{nullptr};
};

/// Subject to counters, cheap to find from any thread; see the file comment.
class subject_table {
 public:
  explicit subject_table(std::size_t max_subjects);
  ~subject_table();
  subject_table(const subject_table&) = delete;
  subject_table& operator=(const subject_table&) = delete;

  /// The counters of `subject`, created on first use. @pre `subject` is valid. @threadsafe
  subject_counters& at(std::string_view subject);
  /// Every subject's counters, sorted by subject; the overflow entry is listed if used.
  [[nodiscard]] std::vector<subject_metrics> snapshot() const;

 private:
  subject_counters& find_or_insert(std::string_view subject);

  using map_type =
      std::unordered_map<std::string, std::unique_ptr<subject_counters>, subject_hash, std::equal_to<>>;

  std::size_t max_subjects_;
  per_thread_owner owner_;  // keys each thread's view
  mutable std::shared_mutex mutex_;
  map_type entries_;
  subject_counters other_;
};

}  // namespace courier::detail
