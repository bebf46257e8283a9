// Monitors, links, exit notification and idle timeouts of actor cells.
#include <algorithm>
#include <atomic>
#include <utility>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/detail/actor_cell.hpp"
#include "courier/runtime/detail/lifecycle.hpp"
#include "courier/runtime/monitor.hpp"

namespace courier::detail {
namespace {

// Marks a cell that stopped before anything asked for its lifecycle state,
// so a later monitor or link learns of the stop instead of waiting forever.
lifecycle_state* exited_without_state() noexcept {
  static lifecycle_state tombstone;
  return &tombstone;
}

std::atomic<std::uint64_t> next_monitor_seq{1};

}  // namespace

lifecycle_state* actor_cell::lifecycle() noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l == nullptr) {
    auto* fresh = new lifecycle_state;
    // acq_rel CAS: publishes the new state; on failure acquires the one that won.
    if (lifecycle_.compare_exchange_strong(l, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
      return fresh;
    delete fresh;
  }
  return l == exited_without_state() ? nullptr : l;
}

void actor_cell::drop_lifecycle() noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l != nullptr && l != exited_without_state()) delete l;
}

exit_reason actor_cell::exit_reason_now() const noexcept {
  const std::uint8_t r = stop_reason_.load(std::memory_order_acquire);
  return r == no_reason ? exit_reason::stopped : static_cast<exit_reason>(r);
}

void actor_cell::record_failure(std::string what) noexcept {
  if (lifecycle_state* l = lifecycle()) {
    std::lock_guard lock{l->mutex};
    if (l->what.empty()) l->what = std::move(what);
  }
}

std::uint64_t actor_cell::add_watcher(const actor_ref& watcher) {
  const std::uint64_t seq = next_monitor_seq.fetch_add(1, std::memory_order_relaxed);
  std::string what;
  if (lifecycle_state* l = lifecycle()) {
    std::lock_guard lock{l->mutex};
    if (!l->exited) {
      l->watchers.push_back({seq, watcher});
      return seq;
    }
    what = l->what;
  }
  watcher.send(down{self_ref(), exit_reason_now(), std::move(what), seq});
  return seq;
}

bool actor_cell::remove_watcher(std::uint64_t seq) noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l == nullptr || l == exited_without_state()) return false;
  actor_ref dropped;  // released outside the lock
  std::lock_guard lock{l->mutex};
  auto it = std::find_if(l->watchers.begin(), l->watchers.end(), [seq](const auto& w) { return w.seq == seq; });
  if (it == l->watchers.end()) return false;
  dropped = std::move(it->watcher);
  l->watchers.erase(it);
  return true;
}

void actor_cell::link(const actor_ref& peer) {
  if (!peer || peer.cell() == this) return;
  lifecycle_state* mine = lifecycle();
  if (mine == nullptr) return;
  {
    std::lock_guard lock{mine->mutex};
    if (std::any_of(mine->links.begin(), mine->links.end(), [&](const actor_ref& r) { return r == peer; })) return;
    mine->links.push_back(peer);
  }
  actor_cell* other = peer.cell();
  std::string what;
  if (lifecycle_state* theirs = other->lifecycle()) {
    std::lock_guard lock{theirs->mutex};
    if (!theirs->exited) {
      theirs->links.push_back(self_ref());
      return;
    }
    what = theirs->what;
  }
  linked_exit(peer, other->exit_reason_now(), what);  // the peer had already stopped
}

void actor_cell::unlink(const actor_ref& peer) noexcept {
  if (!peer) return;
  std::vector<actor_ref> dropped;  // released outside the locks
  for (auto [from, to] : {std::pair{this, peer.cell()}, std::pair{peer.cell(), this}}) {
    lifecycle_state* l = from->lifecycle_.load(std::memory_order_acquire);
    if (l == nullptr || l == exited_without_state()) continue;
    std::lock_guard lock{l->mutex};
    for (auto& r : l->links)
      if (r.cell() == to) dropped.push_back(std::move(r));
    std::erase_if(l->links, [](const actor_ref& r) { return !r; });
  }
}

void actor_cell::set_trap_exit(bool on) noexcept {
  if (lifecycle_state* l = lifecycle()) {
    std::lock_guard lock{l->mutex};
    l->trap_exit = on;
  }
}

void actor_cell::set_group(supervision_group g) noexcept {
  if (lifecycle_state* l = lifecycle()) {
    std::lock_guard lock{l->mutex};
    l->group = g;
  }
}

void actor_cell::linked_exit(const actor_ref& from, exit_reason why, const std::string& what) noexcept {
  lifecycle_state* l = lifecycle();
  if (l == nullptr) return;
  bool trapping = false;
  actor_ref dropped;
  {
    std::lock_guard lock{l->mutex};
    for (auto& r : l->links)
      if (r.cell() == from.cell()) dropped = std::move(r);
    std::erase_if(l->links, [](const actor_ref& r) { return !r; });
    trapping = l->trap_exit && !l->exited;
  }
  if (trapping) {
    if (!core_->stopping()) self_ref().send(exit_signal{from, why, what});
  } else if (why == exit_reason::failed) {
    request_stop(exit_reason::failed, "linked actor failed: " + what);
  }
}

void actor_cell::notify_exit() noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  // acq_rel CAS: a later lifecycle() must see the tombstone and our reason.
  if (l == nullptr && lifecycle_.compare_exchange_strong(l, exited_without_state(), std::memory_order_acq_rel,
                                                        std::memory_order_acquire))
    return;
  if (l == exited_without_state()) return;
  const exit_reason why = exit_reason_now();
  std::vector<lifecycle_state::watch> watchers;
  std::vector<actor_ref> links, children;
  std::function<void(actor_cell&)> rebuild;  // may hold references; dropped outside the lock
  std::function<void()> idle_fn;
  actor_ref parent;
  std::string what;
  timer_id timers[2] = {};
  {
    std::lock_guard lock{l->mutex};
    l->exited = true;
    what = l->what;
    watchers.swap(l->watchers);
    links.swap(l->links);
    children.swap(l->children);
    parent = std::move(l->parent);
    rebuild = std::move(l->rebuild);
    idle_fn = std::move(l->idle_fn);
    l->idle = duration::zero();
    ++l->idle_generation;
    if (l->idle_armed) timers[0] = l->idle_timer;
    if (l->backoff_pending) timers[1] = l->backoff_timer;
    l->idle_armed = l->backoff_pending = false;
  }
  for (timer_id t : timers)
    if (t != timer_id{}) core_->timers().cancel(t);
  for (const auto& c : children) c.cell()->request_stop(exit_reason::shutdown);
  if (parent) {
    if (lifecycle_state* pl = parent.cell()->lifecycle()) {
      actor_ref me;  // released outside the parent's lock
      std::lock_guard lock{pl->mutex};
      for (auto& c : pl->children)
        if (c.cell() == this) me = std::move(c);
      std::erase_if(pl->children, [](const actor_ref& r) { return !r; });
    }
  }
  // During shutdown every watcher is stopping too: a down would only be a dead letter.
  if (!core_->stopping())
    for (const auto& w : watchers) w.watcher.send(down{self_ref(), why, what, w.seq});
  const actor_ref me = self_ref();
  for (const auto& peer : links) peer.cell()->linked_exit(me, why, what);
}

bool actor_cell::accept_idle(const message& m, std::function<void()>& callback) noexcept {
  ++idle_turn_hits_;
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  // The generation and the callback change only in this actor's turns.
  if (l == exited_without_state() || m.as<idle_timeout>().generation != l->idle_generation) return false;
  // Mail handled since the timer fired (earlier in this turn, or in an earlier
  // turn, which moved last_active) means the actor was not quiet after all:
  // the timeout is stale, and the timer armed for that activity decides again.
  if (turn_handled_ >= idle_turn_hits_) return false;
  {
    std::lock_guard lock{l->mutex};
    if (l->last_active + l->idle > core_->timers().now()) return false;
  }
  callback = l->idle_fn;
  return true;
}

void actor_cell::set_idle_timeout(duration d, std::function<void()> fn) {
  lifecycle_state* l = lifecycle();
  if (l == nullptr) return;
  timer_id old;
  {
    std::lock_guard lock{l->mutex};
    if (l->idle_armed) old = l->idle_timer;
    l->idle_armed = false;
    l->idle = d > duration::zero() ? d : duration::zero();
    l->idle_fn = std::move(fn);
    ++l->idle_generation;
    if (l->idle > duration::zero()) {
      l->last_active = core_->timers().now();
      arm_idle_locked(*l, l->last_active + l->idle);
    }
  }
  if (old != timer_id{}) core_->timers().cancel(old);
}

void actor_cell::arm_idle_locked(lifecycle_state& l, time_point deadline) {
  l.idle_armed = true;
  l.idle_timer = core_->timers().start_at(
      deadline, [self = self_ref(), gen = l.idle_generation] { self.cell()->idle_fired(gen); });
}

void actor_cell::idle_fired(std::uint64_t generation) noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l == nullptr || l == exited_without_state()) return;
  {
    std::lock_guard lock{l->mutex};
    if (l->exited || generation != l->idle_generation) return;
    l->idle_armed = false;
    // Messages since arming moved last_active: wait out the rest of the quiet period.
    const time_point due = l->last_active + l->idle;
    if (due > core_->timers().now()) {
      arm_idle_locked(*l, due);
      return;
    }
  }
  self_ref().send(idle_timeout{generation});
}

void actor_cell::note_activity() noexcept {
  lifecycle_state* l = lifecycle_.load(std::memory_order_acquire);
  if (l == nullptr || l == exited_without_state() || l->idle == duration::zero()) return;
  std::lock_guard lock{l->mutex};
  l->last_active = core_->timers().now();
  if (!l->idle_armed) arm_idle_locked(*l, l->last_active + l->idle);
}

}  // namespace courier::detail

namespace courier {

monitor_id actor::monitor(const actor_ref& who) {
  if (!who) return {};
  return monitor_id{who, who.cell()->add_watcher(self())};
}

bool actor::demonitor(const monitor_id& id) noexcept {
  return id.target && id.target.cell()->remove_watcher(id.seq);
}

const char* to_string(exit_reason r) noexcept {
  switch (r) {
    case exit_reason::normal: return "normal";
    case exit_reason::stopped: return "stopped";
    case exit_reason::failed: return "failed";
    case exit_reason::shutdown: return "shutdown";
  }
  return "unknown";
}

}  // namespace courier
