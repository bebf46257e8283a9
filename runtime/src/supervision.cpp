// What a cell does when its handler throws: stop, restart (at once or after a
// backoff), or escalate to its parent; plus restart intensity and groups.
#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include "courier/runtime/detail/actor_cell.hpp"
#include "courier/runtime/detail/lifecycle.hpp"
#include "courier/runtime/supervision.hpp"

namespace courier {

duration backoff_delay(const backoff_policy& p, std::uint32_t attempt, std::uint64_t random) noexcept {
  const double lo = static_cast<double>(std::max(p.min, duration::zero()).count());
  const double hi = std::max(lo, static_cast<double>(p.max.count()));
  // Capped before scaling by jitter so that a long run of failures still varies.
  const double base = std::min(hi, lo * std::pow(std::max(p.multiplier, 1.0), static_cast<double>(attempt)));
  const double u = static_cast<double>(random >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  const double jitter = std::clamp(p.jitter, 0.0, 1.0);
  const double scaled = base * (1.0 + jitter * (2.0 * u - 1.0));
  return duration{static_cast<duration::rep>(std::clamp(scaled, lo, hi))};
}

}  // namespace courier

namespace courier::detail {

void actor_cell::adopt_supervision(actor_cell* parent, const supervision& spec,
                                   std::function<void(actor_cell&)> rebuild) {
  lifecycle_state* l = lifecycle();  // a new cell: never null
  {
    std::lock_guard lock{l->mutex};
    l->supervised = true;
    l->spec = spec;
    l->rebuild = std::move(rebuild);
    l->rng = splitmix64{spec.backoff.seed};
    l->built_at = core_->timers().now();
    if (parent != nullptr) l->parent = parent->self_ref();
  }
  if (parent == nullptr) return;
  if (lifecycle_state* pl = parent->lifecycle()) {
    std::lock_guard lock{pl->mutex};
    if (!pl->exited) {
      pl->children.push_back(self_ref());
      return;
    }
  }
  request_stop(exit_reason::shutdown);  // the parent is already gone
}

void actor_cell::escalate(std::string what) noexcept {
  lifecycle_state* l = lifecycle();
  if (l == nullptr) return;
  {
    std::lock_guard lock{l->mutex};
    if (l->exited) return;
    if (l->escalated.empty()) l->escalated = std::move(what);
  }
  raise(signal_escalate);
}

void actor_cell::raise(std::uint8_t signal) noexcept {
  // seq_cst RMW: pairs with end_turn()'s seq_cst store of scheduled_ and load
  // of signals_ (Dekker): either that turn sees the signal or we schedule.
  signals_.fetch_or(signal, std::memory_order_seq_cst);
  schedule_if_idle();
}

void actor_cell::apply_signals() noexcept {
  // acq_rel: takes the signals and sees what their raisers wrote before.
  const std::uint8_t s = signals_.exchange(0, std::memory_order_acq_rel);
  if (life_.load(std::memory_order_acquire) != life::running || core_->stopping()) return;
  lifecycle_state* l = lifecycle();
  if (l == nullptr) return;
  if ((s & signal_resume) != 0 && suspended_) {
    suspended_ = false;
    l->backoff_pending = false;
    rebuild();
  } else if ((s & signal_restart) != 0 && !suspended_) {
    restart_now();
  }
  if ((s & signal_escalate) != 0) {
    std::string what;
    {
      std::lock_guard lock{l->mutex};
      what.swap(l->escalated);
    }
    supervise_failure("child failed: " + what);
  }
}

bool actor_cell::within_intensity(lifecycle_state& l, time_point now) noexcept {
  const restart_intensity& limit = l.spec.intensity;
  while (!l.restarts.empty() && now - l.restarts.front() >= limit.within) l.restarts.pop_front();
  if (l.restarts.size() >= limit.max_restarts) return false;
  l.restarts.push_back(now);
  return true;
}

void actor_cell::supervise_failure(std::string what) noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l != nullptr && !l->supervised) l = nullptr;  // plain actors just stop
  strategy s = l != nullptr ? l->spec.on_failure : strategy::stop;
  if ((s == strategy::restart || s == strategy::restart_with_backoff) &&
      !within_intensity(*l, core_->timers().now())) {
    s = strategy::escalate;
    what = "restart intensity exceeded: " + what;
  }
  switch (s) {
    case strategy::stop:
      request_stop(exit_reason::failed, std::move(what));
      return;
    case strategy::escalate: {
      actor_ref parent = l->parent;  // fixed until this actor exits, which is this turn
      if (parent) parent.cell()->escalate(what);
      request_stop(exit_reason::failed, std::move(what));
      return;
    }
    case strategy::restart:
      restart_now();
      break;
    case strategy::restart_with_backoff:
      restart_after_backoff(*l);
      break;
  }
  // All-for-one: the failing child's siblings restart too, each in its own turn.
  if (l->parent) {
    std::vector<actor_ref> siblings;
    if (lifecycle_state* pl = l->parent.cell()->lifecycle()) {
      std::lock_guard lock{pl->mutex};
      if (pl->group == supervision_group::all_for_one) siblings = pl->children;
    }
    for (const auto& c : siblings)
      if (c.cell() != this) c.cell()->request_restart();
  }
}

void actor_cell::restart_now() noexcept {
  teardown();
  rebuild();
}

void actor_cell::restart_after_backoff(lifecycle_state& l) noexcept {
  const time_point now = core_->timers().now();
  if (now - l.built_at >= l.spec.backoff.reset_after) l.backoff_attempt = 0;
  const duration delay = backoff_delay(l.spec.backoff, l.backoff_attempt++, l.rng.next());
  teardown();
  suspended_ = true;
  std::lock_guard lock{l.mutex};
  l.backoff_pending = true;
  l.backoff_timer = core_->timers().start_after(delay, [self = self_ref()] { self.cell()->raise(signal_resume); });
}

void actor_cell::teardown() noexcept {
  destruct();
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  std::vector<actor_ref> children;
  std::function<void()> idle_fn;  // may hold references; dropped outside the lock
  timer_id idle_timer;
  {
    // A fresh instance starts with fresh lifecycle settings, except monitors
    // and links, which belong to the address and survive the restart.
    std::lock_guard lock{l->mutex};
    children.swap(l->children);
    idle_fn = std::move(l->idle_fn);
    l->idle = duration::zero();
    ++l->idle_generation;
    if (l->idle_armed) idle_timer = l->idle_timer;
    l->idle_armed = false;
    l->trap_exit = false;
    l->group = supervision_group::one_for_one;
  }
  if (idle_timer != timer_id{}) core_->timers().cancel(idle_timer);
  for (const auto& c : children) c.cell()->request_stop(exit_reason::shutdown);
}

void actor_cell::rebuild() noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  std::string error;
  try {
    destruct();  // no-op unless a restart was requested while running
    l->rebuild(*this);
    l->built_at = core_->timers().now();
    if (metrics_registry* reg = core_->metrics()) bump(reg->local().of(metrics_type()).restarts);
    return;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  request_stop(exit_reason::failed, "restart failed: " + error);
}

}  // namespace courier::detail
