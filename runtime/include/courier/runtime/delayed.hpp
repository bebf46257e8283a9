#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/timers.hpp"

namespace courier {

/// Sends `m` to `to` once `delay` has passed on `timers`' clock. @threadsafe
template <class M>
timer_id send_after(timer_service& timers, const actor_ref& to, duration delay, M&& m) {
  return timers.start_after(delay, [to, msg = make_message<std::remove_cvref_t<M>>(std::forward<M>(m))] {
    to.send_shared(msg);
  });
}

/// Cancels a periodic send when told to, or when destroyed.
class periodic_handle {
 public:
  struct state {
    timer_service* timers;
    actor_ref to;
    message_ptr msg;
    duration period;
    time_point next;
    std::mutex mutex;  // guards id and cancelled against the firing callback
    timer_id id;
    bool cancelled = false;
  };

  periodic_handle() = default;
  explicit periodic_handle(std::shared_ptr<state> s) : state_{std::move(s)} {}
  periodic_handle(periodic_handle&&) noexcept = default;
  periodic_handle& operator=(periodic_handle&& o) noexcept {
    cancel();
    state_ = std::move(o.state_);
    return *this;
  }
  ~periodic_handle() { cancel(); }

  /// Stops further sends. @threadsafe
  void cancel() noexcept {
    if (!state_) return;
    std::lock_guard lock{state_->mutex};
    state_->cancelled = true;
    state_->timers->cancel(state_->id);
  }

 private:
  std::shared_ptr<state> state_;
};

namespace detail {
void arm_periodic(const std::shared_ptr<periodic_handle::state>& s);
}

/// Sends `m` to `to` every `period`, first after one period. Deadlines are
/// start + k·period, so sends do not drift. @threadsafe
template <class M>
[[nodiscard]] periodic_handle send_periodic(timer_service& timers, const actor_ref& to, duration period,
                                            M&& m) {
  auto s = std::make_shared<periodic_handle::state>();
  s->timers = &timers;
  s->to = to;
  s->msg = make_message<std::remove_cvref_t<M>>(std::forward<M>(m));
  s->period = period;
  s->next = timers.now() + period;
  detail::arm_periodic(s);
  return periodic_handle{std::move(s)};
}

}  // namespace courier
