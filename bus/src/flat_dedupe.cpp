#include "courier/bus/flat_dedupe.hpp"

#include <bit>
#include <cstddef>
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

/// Ids per bucket: two thirds full on average. A 15-slot bucket overflows
/// about one time in twenty (a Poisson count of mean 10 exceeding 15), but
/// spills cluster: in a full million-id window a new id's lookup reads 1.4
/// buckets on average, 5.3 at 12 ids a bucket and 1.05 at 8. Of those, 10
/// misses least in a cache simulation (8 MiB) of the `dedupe` benchmark.
constexpr std::size_t ids_per_bucket = 10;

/// How many inserts ahead the next evictions' buckets are prefetched: one
/// insert is shorter than a miss to memory (over 200 ns on a loaded server).
constexpr std::size_t evict_ahead = 8;

/// Tables this large get a mapping of their own, on huge page boundaries,
/// with advice to use transparent huge pages: a lookup lands on a random
/// page, and with 4 KiB pages a large table would miss the TLB on nearly
/// every one. Memory from malloc would not do: an allocator recycles pages
/// that were already faulted in small.
constexpr std::size_t huge_page = std::size_t{2} << 20;

std::size_t mapped_length(std::size_t bytes) noexcept { return (bytes + huge_page - 1) / huge_page * huge_page; }

/// `bytes` zeroed, aligned to a cache line and, when large, to a huge page.
void* zeroed(std::size_t bytes) {
  if (bytes < huge_page) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc{};
    return std::memset(p, 0, bytes);
  }
  // Map a huge page more than needed, then trim both ends to the aligned part.
  const std::size_t length = mapped_length(bytes);
  void* raw = ::mmap(nullptr, length + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc{};
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t begin = (start + huge_page - 1) / huge_page * huge_page;
  const std::uintptr_t end = begin + length;
  if (begin != start) ::munmap(raw, begin - start);
  if (end != start + length + huge_page) ::munmap(reinterpret_cast<void*>(end), start + length + huge_page - end);
  ::madvise(reinterpret_cast<void*>(begin), length, MADV_HUGEPAGE);  // advice only: a kernel without THP ignores it
  return reinterpret_cast<void*>(begin);
}

}  // namespace

void flat_dedupe_store::table_deleter::operator()(bucket* table) const noexcept {
  if (bytes < huge_page) std::free(table);
  else ::munmap(table, mapped_length(bytes));
}

flat_dedupe_store::flat_dedupe_store(std::size_t max_ids, duration max_age)
    : max_ids_{max_ids}, max_age_{max_age} {
  if (max_ids == 0 || max_ids > max_window)
    throw std::invalid_argument("flat_dedupe_store: max_ids must be between 1 and 2^30");
  buckets_ = (max_ids + ids_per_bucket - 1) / ids_per_bucket;
  index_bits_ = static_cast<unsigned>(std::bit_width(max_ids));
  const std::size_t bytes = buckets_ * sizeof(bucket);
  table_ = {static_cast<bucket*>(zeroed(bytes)), table_deleter{bytes}};
  ring_.reset(static_cast<remembered*>(std::calloc(max_ids, sizeof(remembered))));
  if (!ring_) throw std::bad_alloc{};
}

bool flat_dedupe_store::insert(const uuid& id, time_point now) {
  while (count_ > 0 && now - ring_[head_].at > max_age_) erase_oldest();
  const std::uint64_t hash = hash_of(id);
  if (find(id, hash) != nullptr) return false;
  if (count_ == max_ids_) erase_oldest();
  const std::size_t at = (head_ + count_) % max_ids_;
  ring_[at] = remembered{id, now};
  place(hash, at);
  ++count_;
  prefetch_evicted();
  return true;
}

void flat_dedupe_store::prefetch(const uuid& id) const noexcept { __builtin_prefetch(&table_[home_of(hash_of(id))]); }

void flat_dedupe_store::prefetch_evicted() const noexcept {
  // An eviction looks up the oldest id's bucket, a cache miss at a random
  // place in the table; start it early so it overlaps the work in between.
  if (count_ == max_ids_) __builtin_prefetch(&table_[home_of(hash_of(ring_[(head_ + evict_ahead) % max_ids_].id))]);
}

/// The high half of the hash picks the bucket (Lemire's multiply-shift, so
/// any number of buckets), the low half gives the fingerprint.
std::size_t flat_dedupe_store::home_of(std::uint64_t hash) const noexcept {
  return static_cast<std::size_t>(((hash >> 32) * buckets_) >> 32);
}

/// Never 0, so an empty slot (0) never matches a fingerprint.
std::uint32_t flat_dedupe_store::fingerprint_of(std::uint64_t hash) const noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(hash) << index_bits_ >> index_bits_;
  return bits != 0 ? bits : 1;
}

std::uint32_t flat_dedupe_store::entry_of(std::uint64_t hash, std::size_t ring_index) const noexcept {
  return (fingerprint_of(hash) << index_bits_) | static_cast<std::uint32_t>(ring_index + 1);
}

/// Whether a slot of `here` holds `fingerprint`: four 16-byte compares, not
/// fifteen 4-byte ones.
bool flat_dedupe_store::holds_fingerprint(const bucket& here, std::uint32_t fingerprint) const noexcept {
  using lanes = std::uint32_t __attribute__((vector_size(16)));
  static_assert(sizeof(bucket) == 4 * sizeof(lanes) && offsetof(bucket, passed) == sizeof(bucket) - 4,
                "four lanes cover the bucket, `passed` in the last lane");
  lanes quarter[4];
  std::memcpy(quarter, &here, sizeof quarter);
  quarter[3][3] = 0;  // `passed`, read as an empty slot: no fingerprint is 0
  const lanes wanted = lanes{} + fingerprint;
  const auto found = (quarter[0] >> index_bits_ == wanted) | (quarter[1] >> index_bits_ == wanted) |
                     (quarter[2] >> index_bits_ == wanted) | (quarter[3] >> index_bits_ == wanted);
  std::uint64_t halves[2];
  std::memcpy(halves, &found, sizeof halves);
  return (halves[0] | halves[1]) != 0;
}

bool flat_dedupe_store::contains(const uuid& id, time_point now) const {
  // insert() forgets what is too old before it looks; the ring keeps arrival order.
  const remembered* r = find(id, hash_of(id));
  return r != nullptr && now - r->at <= max_age_;
}

const flat_dedupe_store::remembered* flat_dedupe_store::find(const uuid& id, std::uint64_t hash) const noexcept {
  const std::uint32_t fingerprint = fingerprint_of(hash);
  const std::uint32_t index_mask = (std::uint32_t{1} << index_bits_) - 1;
  // Spills could in theory chain all the way round; then every bucket has been checked.
  std::size_t b = home_of(hash);
  for (std::size_t visited = 0; visited < buckets_; ++visited, b = next(b)) {
    const bucket& here = table_[b];
    // Most lookups match no fingerprint and never touch the ring.
    if (holds_fingerprint(here, fingerprint))
      for (const std::uint32_t e : here.slots)
        if (e >> index_bits_ == fingerprint && ring_[(e & index_mask) - 1].id == id) return &ring_[(e & index_mask) - 1];
    if (here.passed == 0) return nullptr;
  }
  return nullptr;
}

void flat_dedupe_store::place(std::uint64_t hash, std::size_t ring_index) noexcept {
  for (std::size_t b = home_of(hash);; b = next(b)) {
    bucket& here = table_[b];
    for (std::uint32_t& slot : here.slots)
      if (slot == 0) {
        slot = entry_of(hash, ring_index);
        return;
      }
    ++here.passed;
  }
}

void flat_dedupe_store::erase_oldest() noexcept {
  const std::uint64_t hash = hash_of(ring_[head_].id);
  const std::uint32_t entry = entry_of(hash, head_);
  head_ = (head_ + 1) % max_ids_;
  --count_;
  // The entry is in its home bucket or one it spilled to; the buckets it
  // passed on the way stop counting it.
  for (std::size_t b = home_of(hash);; b = next(b)) {
    bucket& here = table_[b];
    for (std::uint32_t& slot : here.slots)
      if (slot == entry) {
        slot = 0;
        return;
      }
    --here.passed;
  }
}

}  // namespace courier
