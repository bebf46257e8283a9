#pragma once

#include <mutex>
#include <optional>

#include "courier/runtime/timers.hpp"

namespace courier::sim {

/// Virtual-time timers the world moves itself, one deadline at a time, so
/// that it can trace how many timers each deadline fired.
class world_timers final : public timer_service {
 public:
  world_timers(virtual_clock& c, duration resolution) : timer_service{c, resolution}, clock_{c} {}

  /// The earliest pending deadline, if any.
  [[nodiscard]] std::optional<time_point> next_deadline() const {
    std::lock_guard lock{mutex_};
    return wheel_.next_deadline();
  }

  /// Moves the clock to `t` and fires every timer due by then; returns how many fired.
  std::size_t fire_at(time_point t) {
    clock_.advance_to(t);
    return fire_due(t);
  }

 private:
  virtual_clock& clock_;
};

}  // namespace courier::sim
