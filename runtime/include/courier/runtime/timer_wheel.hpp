#pragma once

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "courier/runtime/clock.hpp"

namespace courier {

/// Names one scheduled timer. The generation changes when the timer fires or is cancelled,
/// so an old handle matches no later timer on the same node (until 2^32 reuses of that node).
struct timer_id {
  std::uint32_t index = 0;       ///< The timer's node; 0 is never a timer, so timer_id{} is inert.
  std::uint32_t generation = 0;  ///< The node's generation when the timer was scheduled.
  friend bool operator==(timer_id, timer_id) = default;
};

/// A hierarchical timing wheel (Varghese and Lauck, "Hashed and Hierarchical Timing Wheels:
/// Data Structures for the Efficient Implementation of a Timer Facility", SOSP 1987).
///
/// Six levels of 64 slots: a level-k slot spans 64^k ticks, so the wheel covers 2^36 ticks
/// (2.2 years at 1 ms); later deadlines wait in an overflow slot. A timer sits at the level of
/// the highest base-64 digit in which its tick differs from the wheel's tick, so every timer
/// at level k is due after every timer at level k-1. Timers are nodes in one vector with a
/// free list; a slot is a vector of node indices and each node knows its position there, so
/// schedule and cancel (swap with the last) are O(1) and allocate nothing once the vectors
/// have grown. Slot vectors rather than linked lists let a cascade overlap its cache misses
/// instead of chasing pointers. A 64-bit occupancy word per level lets advance jump straight
/// to the next non-empty slot, so empty time costs nothing; a slot is cascaded to lower
/// levels when the wheel reaches its first tick.
///
/// Timers fire in exact deadline order (nanoseconds, not ticks), ties in scheduling order:
/// the due timers of a tick go through a min-heap keyed by (deadline, sequence number).
/// The payload is a 64-bit token the owner maps to an action: no type erasure, no allocation.
///
/// @pre one owner thread calls every member function, the const ones included.
class timer_wheel {
 public:
  static constexpr unsigned slot_bits = 6;
  static constexpr unsigned slots_per_level = 1U << slot_bits;
  static constexpr unsigned levels = 6;

  struct config {
    duration resolution = std::chrono::milliseconds{1};  ///< One lowest-level tick; > 0.
    time_point start{};  ///< The wheel's first position, usually the owning clock's now().
  };

  /// Builds an empty wheel; throws std::invalid_argument if the resolution is not positive.
  explicit timer_wheel(config cfg);
  timer_wheel() : timer_wheel(config{}) {}

  /// Schedules `token` to fire at `deadline`; a deadline already passed fires on the next
  /// advance. O(1); allocates only when more timers are pending than ever before.
  timer_id schedule(time_point deadline, std::uint64_t token);

  /// Stops the timer. False if it already fired, was cancelled, or `id` is stale. From inside
  /// on_fire it also stops a timer that is due in the same advance. O(1).
  bool cancel(timer_id id) noexcept;

  /// The number of timers that have neither fired nor been cancelled.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }

  /// The earliest pending deadline, exact to the nanosecond; nullopt if none is pending.
  /// O(levels) while the earliest slot is unchanged, else O(timers in that slot).
  [[nodiscard]] std::optional<time_point> next_deadline() const noexcept;

  /// Fires every timer whose deadline is <= `now`, in deadline order, calling
  /// on_fire(token, deadline) or on_fire(token), and returns how many fired.
  /// A timer scheduled from on_fire with a deadline <= `now` fires in this same call (right
  /// away if its deadline is earlier than the one firing). If on_fire throws, the exception
  /// propagates and the timers not yet fired stay pending. An earlier `now` than a previous
  /// advance never moves the wheel back. Running out of memory while cascading terminates.
  /// @pre not called from inside on_fire.
  template <class F>
  std::size_t advance(time_point now, F&& on_fire);

  /// Makes room for `n` pending timers so that schedule does not allocate.
  void reserve(std::size_t n);

  /// The length of one tick.
  [[nodiscard]] duration resolution() const noexcept { return duration{resolution_ns_}; }

 private:
  struct node {
    std::int64_t deadline = 0;  // nanoseconds since the epoch
    std::uint64_t seq = 0;      // scheduling order, the tie-break
    std::uint64_t token = 0;
    std::uint32_t generation = 0;
    std::uint32_t where = 0;  // slot id, or in_batch / cancelled_in_batch / free_node
    std::uint32_t pos = 0;    // index in its slot's vector; the next free node when free
  };
  static_assert(sizeof(node) == 40, "five words per timer: 10^6 timers cost 40 MB");

  struct due {
    std::int64_t deadline;
    std::uint64_t seq;
    std::uint32_t index;
  };
  struct fired {
    std::uint64_t token;
    time_point deadline;
  };
  struct event {
    std::uint64_t tick;
    std::uint32_t slot;
  };

  static_assert(slots_per_level == 64, "a level's occupancy is one 64-bit word");
  static_assert(levels * slot_bits < 64, "tick bits above the top level must exist for overflow");

  static constexpr std::uint32_t overflow_slot = levels * slots_per_level;
  static constexpr std::uint32_t slot_count = overflow_slot + 1;
  static constexpr std::uint32_t nil = 0xFFFF'FFFF;
  static constexpr std::uint32_t in_batch = nil - 1;
  static constexpr std::uint32_t cancelled_in_batch = nil - 2;
  static constexpr std::uint32_t free_node = nil - 3;

  template <class F>
  std::size_t fire_batch(std::int64_t now_ns, F& on_fire);

  [[nodiscard]] std::uint64_t tick_of(std::int64_t ns) const noexcept;
  [[nodiscard]] std::uint32_t slot_for(std::uint64_t tick) const noexcept;
  [[nodiscard]] std::int64_t exact_min(std::uint32_t slot) const noexcept;
  [[nodiscard]] event next_event() const noexcept;
  std::uint32_t acquire();
  void recycle(std::uint32_t i) noexcept;
  void place(std::uint32_t i);
  void unlink(std::uint32_t i) noexcept;
  void cascade(std::uint32_t slot) noexcept;
  void push_due(std::uint32_t i);
  bool collect_due(std::int64_t now_ns, bool whole_slot);
  std::optional<fired> pop_due() noexcept;
  void abandon_batch() noexcept;
  void step_towards(std::uint64_t target) noexcept;

  std::vector<node> nodes_;  // nodes_[0] is never a timer
  std::array<std::vector<std::uint32_t>, slot_count> slots_;
  std::vector<std::uint32_t> spare_;  // an empty slot vector, swapped in while cascading
  std::vector<due> batch_;            // min-heap of the timers firing in the current advance
  std::array<std::uint64_t, levels + 1> occupied_{};  // bit s of word k: slot k*64+s non-empty
  mutable std::array<std::int64_t, slot_count> slot_min_{};  // lower bound of a slot's deadlines
  mutable std::array<bool, slot_count> min_exact_{};         // slot_min_ is the exact minimum
  std::int64_t resolution_ns_;
  std::uint64_t tick_magic_ = 0;  // ns / resolution as a multiply and shift; 0: shift only
  std::uint32_t tick_shift_ = 0;
  std::int64_t firing_now_ns_ = 0;
  std::uint64_t cur_ = 0;  // the wheel's tick: every tick before it has been fired
  std::uint64_t next_seq_ = 0;
  std::size_t pending_ = 0;
  std::uint32_t free_head_ = nil;
  bool firing_ = false;
};

template <class F>
std::size_t timer_wheel::advance(time_point now, F&& on_fire) {
  assert(!firing_ && "advance must not be called from inside on_fire");
  const std::int64_t now_ns = now.time_since_epoch().count();
  const std::uint64_t target = tick_of(now_ns) > cur_ ? tick_of(now_ns) : cur_;
  std::size_t count = 0;
  for (;;) {
    while (collect_due(now_ns, cur_ < target)) count += fire_batch(now_ns, on_fire);
    if (cur_ == target) return count;
    step_towards(target);
  }
}

template <class F>
std::size_t timer_wheel::fire_batch(std::int64_t now_ns, F& on_fire) {
  firing_now_ns_ = now_ns;
  firing_ = true;
  std::size_t count = 0;
  try {
    while (const std::optional<fired> t = pop_due()) {
      ++count;
      if constexpr (std::is_invocable_v<F&, std::uint64_t, time_point>) {
        on_fire(t->token, t->deadline);
      } else {
        on_fire(t->token);
      }
    }
  } catch (...) {
    abandon_batch();
    throw;
  }
  firing_ = false;
  return count;
}

}  // namespace courier
