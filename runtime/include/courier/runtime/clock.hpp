#pragma once

#include <atomic>
#include <chrono>

namespace courier {

/// The unit of every Courier duration and deadline.
using duration = std::chrono::nanoseconds;

/// A point on Courier's time line. It is std::chrono::steady_clock's time_point, so real
/// time needs no conversion; a virtual clock's readings share the type but start wherever
/// the clock was told to start, so never compare readings of different clocks.
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

/// Where timers and deadlines read "now". Readings never decrease.
class clock {
 public:
  clock() = default;
  clock(const clock&) = delete;
  clock& operator=(const clock&) = delete;
  virtual ~clock();

  /// Returns the current time. @threadsafe
  [[nodiscard]] virtual time_point now() const noexcept = 0;
};

/// Real time, read from std::chrono::steady_clock.
class steady_clock final : public clock {
 public:
  /// Returns std::chrono::steady_clock::now(). @threadsafe
  [[nodiscard]] time_point now() const noexcept override;
};

/// Time that moves only when its owner moves it, for simulation and deterministic tests.
/// It never goes backwards: a negative advance or an advance_to an earlier time is a no-op.
class virtual_clock final : public clock {
 public:
  /// Starts the clock at `start`.
  explicit virtual_clock(time_point start = time_point{}) noexcept;

  /// Returns the current virtual time. @threadsafe
  [[nodiscard]] time_point now() const noexcept override;

  /// Moves time forward by `d` and returns the new time; `d` <= 0 changes nothing. @threadsafe
  time_point advance(duration d) noexcept;

  /// Moves time forward to `t` and returns the new time; a `t` not after now() changes
  /// nothing. @threadsafe
  time_point advance_to(time_point t) noexcept;

 private:
  static_assert(std::atomic<duration::rep>::is_always_lock_free,
                "now() is read on every timer check; it must not take a lock");

  std::atomic<duration::rep> ns_;
};

}  // namespace courier
