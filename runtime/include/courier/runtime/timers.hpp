#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "courier/runtime/clock.hpp"
#include "courier/runtime/timer_wheel.hpp"

namespace courier {

/// Runs callbacks at deadlines read from a clock. Both implementations keep
/// the timers in one timer_wheel; no thread is made per timer and nothing a
/// worker does ever blocks on one. Callbacks must be short (typically a send).
class timer_service {
 public:
  using callback = std::function<void()>;

  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;
  virtual ~timer_service() = default;

  /// Runs `fn` once the clock reaches `deadline`. @threadsafe
  timer_id start_at(time_point deadline, callback fn);
  /// Runs `fn` after `delay`. @threadsafe
  timer_id start_after(duration delay, callback fn) { return start_at(now() + delay, std::move(fn)); }
  /// Cancels a timer; false if it already fired or was cancelled. @threadsafe
  bool cancel(timer_id id) noexcept;

  [[nodiscard]] time_point now() const noexcept { return clock_.now(); }
  [[nodiscard]] const courier::clock& clock() const noexcept { return clock_; }
  /// Timers started and neither fired nor cancelled. @threadsafe
  [[nodiscard]] std::size_t pending() const;

 protected:
  explicit timer_service(const courier::clock& c, duration resolution);
  /// Fires every timer due at `now`, outside the lock, in deadline order.
  std::size_t fire_due(time_point now);
  /// Called with the lock held when a new timer's `deadline` is the earliest.
  virtual void earliest_changed(time_point /*deadline*/) {}

  mutable std::mutex mutex_;
  timer_wheel wheel_;

 private:
  std::uint64_t store(callback fn);

  const courier::clock& clock_;
  std::vector<callback> callbacks_;  // indexed by token
  std::vector<std::uint64_t> free_;
  std::vector<std::uint64_t> token_by_index_;  // wheel node index -> token, for cancel()
};

/// Real time: one thread sleeps until the earliest deadline and fires it.
class real_time_timers final : public timer_service {
 public:
  explicit real_time_timers(duration resolution = std::chrono::microseconds{100});
  ~real_time_timers() override;

 private:
  void earliest_changed(time_point deadline) override {
    if (deadline < wakes_at_) wake_.notify_one();
  }
  void loop();

  std::condition_variable wake_;
  bool stopping_ = false;
  // When the timer thread will next look at the wheel by itself: the
  // deadline it sleeps until, max() while it waits for a first timer, min()
  // while it is awake. A timer due no earlier needs no wake-up: a request
  // that starts and cancels its timeout per round trip would otherwise wake
  // the thread, and take a core from the actors, every time.
  time_point wakes_at_ = time_point::min();
  std::thread thread_;
};

/// Virtual time: nothing fires until the owner moves the clock, so tests and
/// simulations run timers deterministically and never sleep.
/// @pre the callbacks run on the thread that calls advance().
class virtual_timers final : public timer_service {
 public:
  explicit virtual_timers(virtual_clock& c, duration resolution = std::chrono::microseconds{1})
      : timer_service{c, resolution}, virtual_{c} {}

  /// Moves the clock forward by `d`, firing every timer due on the way in deadline order.
  std::size_t advance(duration d);
  /// Moves the clock to the earliest pending deadline and fires what is due
  /// there; false if no timer is pending.
  bool advance_to_next();
  /// The earliest pending deadline, if any.
  [[nodiscard]] std::optional<time_point> next_deadline() const;

 private:
  virtual_clock& virtual_;
};

}  // namespace courier
