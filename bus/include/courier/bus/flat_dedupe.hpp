#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "courier/bus/dedupe.hpp"

namespace courier {

/// The store behind subscribe_options::dedupe_window: an id is a duplicate
/// if it is among the last `max_ids` ids inserted and was inserted at most
/// `max_age` ago. (window_dedupe_store checks against one id fewer: it makes
/// room before it looks.) Laid out for a window of millions.
///
/// The ids sit in a ring in arrival order, which gives eviction order for
/// free. A hash table maps an id to its ring slot. It is bucketized, one
/// cache line a bucket, so a lookup usually reads one line: each entry packs
/// a fingerprint of the id's hash with the ring index in 32 bits, and the id
/// is read from the ring only when a fingerprint matches. A full bucket
/// spills into the next, and counts how many entries passed it (F14's
/// overflow counts, folly/container/detail/F14Table.h), so a lookup stops at
/// the first bucket no entry passed, and an erasure clears its slot in place
/// with no tombstone and no shifting. An insert costs about two cache misses
/// whatever the window's size, and memory is 24 bytes per ring slot plus
/// a 64-byte bucket per 10 ids in the table: a million-id table takes
/// 6.4 MB, so much of it can stay in a last-level cache.
class flat_dedupe_store final : public dedupe_store {
 public:
  /// The largest window: ring indexes, plus one, must fit in 31 bits, leaving
  /// an entry at least one bit of fingerprint.
  static constexpr std::size_t max_window = std::size_t{1} << 30;

  /// A window of `max_ids` ids (1 to max_window), each remembered for at most `max_age`.
  /// Throws std::invalid_argument outside that range.
  flat_dedupe_store(std::size_t max_ids, duration max_age);
  bool insert(const uuid& id, time_point now) override;
  [[nodiscard]] bool contains(const uuid& id, time_point now) const override;
  void prefetch(const uuid& id) const noexcept override;
  [[nodiscard]] std::size_t size() const override { return count_; }

 private:
  struct free_deleter {
    void operator()(void* p) const noexcept { std::free(p); }
  };
  struct remembered {
    uuid id;
    time_point at;
  };
  static constexpr std::size_t slots_per_bucket = 15;
  struct alignas(64) bucket {
    std::uint32_t slots[slots_per_bucket];  // (fingerprint << index_bits_) | (ring index + 1); 0 = empty
    std::uint32_t passed;  // entries stored after this bucket whose home is this one or before
  };
  static_assert(sizeof(bucket) == 64, "a bucket is one cache line: a lookup reads one line");
  /// Frees a table from malloc, or from a mapping of its own when it is large.
  struct table_deleter {
    std::size_t bytes;
    void operator()(bucket* table) const noexcept;
  };

  [[nodiscard]] std::size_t home_of(std::uint64_t hash) const noexcept;
  [[nodiscard]] std::uint32_t fingerprint_of(std::uint64_t hash) const noexcept;
  [[nodiscard]] std::uint32_t entry_of(std::uint64_t hash, std::size_t ring_index) const noexcept;
  [[nodiscard]] std::size_t next(std::size_t b) const noexcept { return b + 1 == buckets_ ? 0 : b + 1; }
  [[nodiscard]] bool holds_fingerprint(const bucket& here, std::uint32_t fingerprint) const noexcept;
  /// The ring slot that holds `id`, or nullptr.
  [[nodiscard]] const remembered* find(const uuid& id, std::uint64_t hash) const noexcept;
  void place(std::uint64_t hash, std::size_t ring_index) noexcept;
  void erase_oldest() noexcept;
  void prefetch_evicted() const noexcept;

  std::size_t max_ids_;
  duration max_age_;
  std::size_t buckets_ = 0;      // the table's length
  unsigned index_bits_ = 0;      // low bits of an entry that hold ring index + 1
  std::size_t head_ = 0;         // ring index of the oldest id
  std::size_t count_ = 0;        // ids in the window
  // Both zeroed when made, the ring by calloc, so its pages are touched only when used.
  std::unique_ptr<bucket[], table_deleter> table_;
  std::unique_ptr<remembered[], free_deleter> ring_;
};

}  // namespace courier
