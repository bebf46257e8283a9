#include "courier/bus/flat_dedupe.hpp"

#include <bit>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>

#include <sys/mman.h>

namespace courier {
namespace {

static_assert(std::is_trivially_copyable_v<uuid> && std::is_trivially_copyable_v<time_point>,
              "the ring is raw calloc'd memory written by assignment");

/// A 64-bit finaliser (the one of splitmix64) over both halves, so any bits
/// of the id spread over the table index.
std::uint64_t hash_of(const uuid& id) noexcept {
  std::uint64_t z = id.hi ^ (id.lo * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t pack(std::uint64_t hash, std::size_t ring_index) noexcept {
  return (hash << 32) | (static_cast<std::uint64_t>(ring_index) + 1);
}
std::uint32_t hash_bits(std::uint64_t entry) noexcept { return static_cast<std::uint32_t>(entry >> 32); }
std::size_t ring_index(std::uint64_t entry) noexcept { return static_cast<std::size_t>(entry & 0xffffffffu) - 1; }

constexpr std::size_t huge_page = std::size_t{2} << 20;

/// `n` zeroed T. Tables of 2 MiB or more ask for transparent huge pages: an
/// insert lands on a random page, and with 4 KiB pages a large table would
/// miss the TLB on nearly every one.
template <class T>
T* zeroed(std::size_t n) {
  const std::size_t bytes = n * sizeof(T);
  void* p = nullptr;
  if (bytes >= huge_page) {
    p = std::aligned_alloc(huge_page, (bytes + huge_page - 1) / huge_page * huge_page);
    if (p != nullptr) {
      ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: a kernel without THP ignores it
      std::memset(p, 0, bytes);
    }
  } else {
    p = std::calloc(n, sizeof(T));
  }
  if (p == nullptr) throw std::bad_alloc{};
  return static_cast<T*>(p);
}

}  // namespace

flat_dedupe_store::flat_dedupe_store(std::size_t max_ids, duration max_age)
    : max_ids_{max_ids}, max_age_{max_age} {
  if (max_ids == 0 || max_ids > max_window)
    throw std::invalid_argument("flat_dedupe_store: max_ids must be between 1 and 2^30");
  mask_ = std::bit_ceil(2 * max_ids) - 1;
  table_.reset(zeroed<std::uint64_t>(mask_ + 1));
  ring_.reset(static_cast<remembered*>(std::calloc(max_ids, sizeof(remembered))));
  if (!ring_) throw std::bad_alloc{};
}

bool flat_dedupe_store::insert(const uuid& id, time_point now) {
  while (count_ > 0 && now - ring_[head_].at > max_age_) erase_oldest();
  const std::uint64_t hash = hash_of(id);
  std::size_t slot = find(id, hash);
  if (table_[slot] != 0) return false;
  if (count_ == max_ids_) {
    erase_oldest();
    slot = find(id, hash);  // the erasure may have shifted the cluster `slot` was in
  }
  const std::size_t at = (head_ + count_) % max_ids_;
  ring_[at] = remembered{id, now};
  table_[slot] = pack(hash, at);
  ++count_;
  prefetch_oldest();
  return true;
}

void flat_dedupe_store::prefetch_oldest() const noexcept {
  // The next eviction looks up the oldest id's slot, a cache miss at a random
  // place in the table; start it now so it overlaps the caller's work.
  if (count_ == max_ids_) __builtin_prefetch(&table_[hash_of(ring_[head_].id) & mask_]);
}

std::size_t flat_dedupe_store::find(const uuid& id, std::uint64_t hash) const noexcept {
  const auto bits = static_cast<std::uint32_t>(hash);
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const std::uint64_t e = table_[i];
    if (e == 0 || (hash_bits(e) == bits && ring_[ring_index(e)].id == id)) return i;
  }
}

void flat_dedupe_store::erase_oldest() noexcept {
  std::size_t hole = find(ring_[head_].id, hash_of(ring_[head_].id));
  head_ = (head_ + 1) % max_ids_;
  --count_;
  // Algorithm R: move back every later entry of the cluster whose home slot
  // does not lie cyclically in (hole, j]; it would be unreachable otherwise.
  for (std::size_t j = (hole + 1) & mask_; table_[j] != 0; j = (j + 1) & mask_) {
    const std::size_t home = hash_bits(table_[j]) & mask_;
    if (((j - home) & mask_) >= ((j - hole) & mask_)) {
      table_[hole] = table_[j];
      hole = j;
    }
  }
  table_[hole] = 0;
}

}  // namespace courier
