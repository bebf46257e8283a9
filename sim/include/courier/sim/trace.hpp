#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace courier::sim {

/// What one trace record says happened.
enum class event : std::uint8_t {
  turn,       ///< schedule::uniform ran one runnable: value = index picked, subscription = how many it was picked from.
  deliver,    ///< A message was handed to a subscription: value = subject hash.
  timers,     ///< The clock jumped to a deadline: value = timers fired there.
  drop,       ///< A drop fault swallowed a delivery: value = subject hash.
  duplicate,  ///< A duplicate fault added copies: value = copies added.
  delay,      ///< A delay fault deferred a delivery: value = delay in nanoseconds.
  reorder,    ///< A reorder fault held a delivery back: value = messages now held.
  release,    ///< A reorder window let its held messages go: value = how many.
  cancelled,  ///< A deferred delivery found its subscription gone: value = subject hash.
  round,      ///< schedule::rounds began a round: value = the random state its order is shuffled from, subscription = runnables in it.
  fanout,     ///< The message of the `deliver` before also went straight to the next subscriptions its subject matches: value = subject hash, subscription = how many.
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

/// The record of one run. Records are staged in a fixed buffer and hashed a
/// buffer at a time, so appending one is a few stores; the first `capacity`
/// records are also kept for reading and writing.
/// @pre used by one thread.
class trace {
 public:
  explicit trace(std::size_t capacity = std::size_t{1} << 16) : capacity_{capacity} {}

  /// Appends a record stamped with the current time (see set_time()); `rule` as record::fault.
  void add(event what, std::uint64_t value, std::uint32_t subscription = 0,
           std::uint16_t rule = 0) noexcept {
    record& r = stage_[staged_];
    r.time = now_;
    r.value = value;
    r.subscription = subscription;
    r.fault = rule;
    r.what = what;
    r.reserved = 0;
    if (++staged_ == stage_records) digest();
  }
  /// Appends a record as given.
  void add(const record& r) noexcept {
    stage_[staged_] = r;
    if (++staged_ == stage_records) digest();
  }
  /// Sets the time add() stamps on records: virtual nanoseconds since the world began.
  void set_time(std::int64_t ns) noexcept { now_ = ns; }
  /// Remembers the text of a subject hash and of a subscription, for printing.
  void name_subject(std::uint64_t hash, std::string_view subject);
  void name_subscription(std::uint32_t id, std::string_view pattern);

  /// xxHash64 (seed 0) of every record so far, as the bytes write() stores
  /// them: same records in the same order, same hash. A trace read from a
  /// file gives the hash it was written with.
  [[nodiscard]] std::uint64_t hash() const noexcept;
  /// Records appended so far, kept or not.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_ + staged_; }
  /// The kept records: the first capacity() of count().
  [[nodiscard]] const std::vector<record>& records() const {
    keep_staged();
    return records_;
  }
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
  // A multiple of 4, so that a full stage is whole 32-byte xxHash64 stripes.
  static constexpr std::size_t stage_records = 256;
  static_assert(stage_records * sizeof(record) % 32 == 0, "a stage must hash as whole stripes");

  /// Hashes the full stage into the lanes, keeps what fits and empties it.
  void digest() noexcept;
  /// Copies the staged records not yet kept into records_, up to capacity().
  void keep_staged() const;

  std::size_t capacity_;
  std::int64_t now_ = 0;
  std::size_t staged_ = 0;
  std::array<record, stage_records> stage_;
  // xxHash64's four accumulators (seeded with 0) over the first count_ records.
  std::array<std::uint64_t, 4> lanes_ = {0x9e3779b185ebca87ULL + 0xc2b2ae3d27d4eb4fULL,
                                         0xc2b2ae3d27d4eb4fULL, 0, 0 - 0x9e3779b185ebca87ULL};
  std::uint64_t count_ = 0;
  mutable std::size_t kept_staged_ = 0;  // of stage_, how many are already in records_
  mutable std::vector<record> records_;
  bool from_file_ = false;
  std::uint64_t file_hash_ = 0;
  std::unordered_map<std::uint64_t, std::string> subjects_;
  std::unordered_map<std::uint32_t, std::string> patterns_;
};

}  // namespace courier::sim
