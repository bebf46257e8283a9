#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace courier::sim {

/// What one trace record says happened.
enum class event : std::uint8_t {
  turn,       ///< The executor ran one runnable: value = index picked, subscription = ready count.
  deliver,    ///< A message was handed to a subscription: value = subject hash.
  timers,     ///< The clock jumped to a deadline: value = timers fired there.
  drop,       ///< A drop fault swallowed a delivery: value = subject hash.
  duplicate,  ///< A duplicate fault added copies: value = copies added.
  delay,      ///< A delay fault deferred a delivery: value = delay in nanoseconds.
  reorder,    ///< A reorder fault held a delivery back: value = messages now held.
  release,    ///< A reorder window let its held messages go: value = how many.
  cancelled,  ///< A deferred delivery found its subscription gone: value = subject hash.
};

/// Returns the event's name ("turn", "deliver", ...).
const char* to_string(event e) noexcept;

/// One fixed-size record. 24 bytes, no pointers, so a trace compares and
/// hashes the same in every process.
struct record {
  std::int64_t time = 0;           ///< Virtual nanoseconds since the world began.
  std::uint64_t value = 0;         ///< Meaning depends on `what` (see event).
  std::uint32_t subscription = 0;  ///< The bus subscription id, or 0.
  std::uint16_t fault = 0;         ///< 1 + the index of the fault rule that decided, or 0.
  event what = event::turn;
  std::uint8_t reserved = 0;
  friend bool operator==(const record&, const record&) = default;
};
static_assert(sizeof(record) == 24, "records are written to files as raw bytes");

/// 64-bit FNV-1a of a string; how a trace names subjects.
std::uint64_t subject_hash(std::string_view s) noexcept;

/// The record of one run: every record is folded into a running 64-bit hash,
/// and the first `capacity` records are also kept for reading and writing.
/// @pre used by one thread.
class trace {
 public:
  explicit trace(std::size_t capacity = std::size_t{1} << 16) : capacity_{capacity} {}

  /// Appends a record.
  void add(const record& r) noexcept {
    hash_ = mix(mix(mix(hash_, static_cast<std::uint64_t>(r.time)), r.value),
                (std::uint64_t{r.subscription} << 32) | (std::uint64_t{r.fault} << 8) |
                    static_cast<std::uint64_t>(r.what));
    ++count_;
    if (records_.size() < capacity_) keep(r);
  }
  /// Remembers the text of a subject hash and of a subscription, for printing.
  void name_subject(std::uint64_t hash, std::string_view subject);
  void name_subscription(std::uint32_t id, std::string_view pattern);

  /// A digest of every record so far: same records in the same order, same hash.
  [[nodiscard]] std::uint64_t hash() const noexcept;
  /// Records appended so far, kept or not.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The kept records: the first capacity() of count().
  [[nodiscard]] const std::vector<record>& records() const noexcept { return records_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  /// One record in readable form, e.g. "t=1.000250s deliver sub#3 orders.*.placed <- orders.eu.placed".
  [[nodiscard]] std::string describe(const record& r) const;
  /// Prints the kept records (at most `limit`), one per line, then the count and hash.
  void print(std::FILE* out, std::size_t limit = SIZE_MAX) const;

  /// Writes the kept records, the names and the hash to `path`; false on an I/O error.
  bool write(const std::string& path) const;
  /// Reads a file written by write(); throws std::runtime_error if it is not one.
  static trace read(const std::string& path);

 private:
  // One round of xxHash64's accumulator: multiply, rotate, multiply.
  static std::uint64_t mix(std::uint64_t acc, std::uint64_t v) noexcept {
    acc += v * 0xc2b2ae3d27d4eb4fULL;
    acc = (acc << 31) | (acc >> 33);
    return acc * 0x9e3779b185ebca87ULL;
  }
  void keep(const record& r);

  std::size_t capacity_;
  std::uint64_t hash_ = 0x27d4eb2f165667c5ULL;
  std::uint64_t count_ = 0;
  std::vector<record> records_;
  std::unordered_map<std::uint64_t, std::string> subjects_;
  std::unordered_map<std::uint32_t, std::string> patterns_;
};

}  // namespace courier::sim
