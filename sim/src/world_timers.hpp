#pragma once

#include <mutex>
#include <optional>

#include "courier/runtime/timers.hpp"
#include "courier/sim/trace.hpp"

namespace courier::sim {

/// Virtual-time timers the world moves itself, one deadline at a time, so
/// that it can trace how many timers each deadline fired. The only mover of
/// the world's clock: it keeps the trace's time in step with it.
class world_timers final : public timer_service {
 public:
  world_timers(virtual_clock& c, duration resolution, sim::trace& t, time_point start)
      : timer_service{c, resolution}, clock_{c}, trace_{t}, start_{start} {}

  /// The earliest pending deadline, if any.
  [[nodiscard]] std::optional<time_point> next_deadline() const {
    std::lock_guard lock{mutex_};
    return wheel_.next_deadline();
  }

  /// Moves the clock forward to `t` without firing anything.
  void advance_to(time_point t) noexcept {
    trace_.set_time((clock_.advance_to(t) - start_).count());
  }

  /// Moves the clock to `t` and fires every timer due by then; returns how many fired.
  std::size_t fire_at(time_point t) {
    advance_to(t);
    return fire_due(t);
  }

 private:
  virtual_clock& clock_;
  sim::trace& trace_;
  time_point start_;
};

}  // namespace courier::sim
