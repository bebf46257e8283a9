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
/// free. An open-addressing table with linear probing (load at most 1/2)
/// maps an id's hash to its ring slot; a table entry packs 32 bits of the
/// hash with the ring index, so a probe compares hashes in one cache line
/// and reads an id from the ring only when they match. Erasure shifts the
/// following entries back (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so there
/// are no tombstones. An insert costs about two cache misses whatever the
/// window's size, and memory is 24 bytes per ring slot plus 16 or fewer per id.
class flat_dedupe_store final : public dedupe_store {
 public:
  /// The largest window: ring indexes, plus one, must fit in 32 bits.
  static constexpr std::size_t max_window = std::size_t{1} << 30;

  /// A window of `max_ids` ids (1 to max_window), each remembered for at most `max_age`.
  /// Throws std::invalid_argument outside that range.
  flat_dedupe_store(std::size_t max_ids, duration max_age);
  bool insert(const uuid& id, time_point now) override;
  [[nodiscard]] std::size_t size() const override { return count_; }

 private:
  struct free_deleter {
    void operator()(void* p) const noexcept { std::free(p); }
  };
  struct remembered {
    uuid id;
    time_point at;
  };

  [[nodiscard]] std::size_t find(const uuid& id, std::uint64_t hash) const noexcept;
  void erase_oldest() noexcept;
  void prefetch_oldest() const noexcept;

  std::size_t max_ids_;
  duration max_age_;
  std::size_t mask_ = 0;   // table size - 1; the size is a power of two >= 2 * max_ids_
  std::size_t head_ = 0;   // ring index of the oldest id
  std::size_t count_ = 0;  // ids in the window
  // Both zeroed when made; the ring by calloc, so its pages are touched only when used.
  std::unique_ptr<std::uint64_t[], free_deleter> table_;  // (hash low 32 bits << 32) | (ring index + 1); 0 = empty
  std::unique_ptr<remembered[], free_deleter> ring_;
};

}  // namespace courier
