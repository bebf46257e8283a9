#include "courier/runtime/detail/actor_cell.hpp"

#include "courier/runtime/actor.hpp"
#include "courier/runtime/detail/lifecycle.hpp"
#include "courier/runtime/monitor.hpp"

#include <exception>
#include <string>

namespace courier {
namespace detail {
namespace {
thread_local actor_cell* constructing = nullptr;
thread_local const message* current = nullptr;
}  // namespace

current_message_scope::current_message_scope(const message* m) noexcept : previous{current} {
  current = m;
}
current_message_scope::~current_message_scope() { current = previous; }

constructing_scope::constructing_scope(actor_cell* c) noexcept : previous{constructing} {
  constructing = c;
}
constructing_scope::~constructing_scope() { constructing = previous; }

void add_ref(actor_cell* c) noexcept { c->add_ref(); }
void release(actor_cell* c) noexcept { c->release(); }
bool enqueue(actor_cell* c, mail_hook* h) noexcept { return c->enqueue(h); }
bool enqueue_shared(actor_cell* c, message* m) noexcept { return c->enqueue_shared(m); }
void request_stop(actor_cell* c) noexcept { c->request_stop(); }

actor_cell::actor_cell(system_core& core, const dispatch_table& table) noexcept
    : core_{&core}, table_{&table} {
  if (core.metrics() != nullptr) counters_ = new cell_counters{table.metrics_type()};
  core.add_ref();
  core.enlist(this);
}

actor_cell::~actor_cell() {
  // Unreachable in practice: every push schedules a turn that holds a
  // reference, and a turn ends only with an empty mailbox. Kept so that no
  // message can leak silently.
  while (mail_hook* h = pop()) core_->dead_letter(take(h), nullptr, dead_letter_reason::stopped);
  drop_lifecycle();
  free_tasks();
  core_->delist(this);  // folds counters_ into its type's totals
  delete counters_;
  core_->release();
}

bool actor_cell::try_add_ref() noexcept {
  auto n = refs_.load(std::memory_order_relaxed);
  // relaxed CAS: the caller already holds the registry lock that keeps the
  // memory alive; it only must not revive a count that reached zero.
  while (n != 0 && !refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
  }
  return n != 0;
}

template <sharing S>
mail_hook* actor_cell::pop() noexcept {
  // Only mail_hooks are ever pushed; the queue's own stub is never returned.
  auto* h = static_cast<mail_hook*>(mailbox_.pop<S>());
  if (counters_ != nullptr && h != nullptr) counters_->popped();
  return h;
}

message_ptr actor_cell::take(mail_hook* h) noexcept {
  message* m = h->msg();
  if (h != &m->own_hook()) {
    auto& n = static_cast<mail_node&>(*h);
    if (!n.holds_ref()) m->add_ref();  // before dispose() lets the node's maker drop its own
    retire(n);                         // the node's reference moves to us
  }
  return message_ptr::adopt(m);
}

void actor_cell::finish(mail_hook* h) noexcept {
  message* m = h->msg();
  if (h != &m->own_hook()) {
    auto& n = static_cast<mail_node&>(*h);
    const bool held = n.holds_ref();
    retire(n);
    if (!held) return;  // `m` may be gone now: the node's maker held the reference
  }
  m->release(core_->sharing_mode());
}

void actor_cell::retire(mail_node& n) noexcept {
  n.done();
  n.dispose();
}

bool actor_cell::enqueue(mail_hook* h) noexcept {
  return core_->sharing_mode() == sharing::confined ? enqueue_as<sharing::confined>(h) : enqueue_as<sharing::shared>(h);
}

bool actor_cell::enqueue_shared(message* m) noexcept {
  return core_->sharing_mode() == sharing::confined ? enqueue_shared_as<sharing::confined>(m) : enqueue_shared_as<sharing::shared>(m);
}

template <sharing S>
bool actor_cell::enqueue_shared_as(message* m) noexcept {
  if (mail_hook* h = m->claim_hook<S>()) {
    m->add_ref<S>();  // the mailbox's reference, as a mail_node would hold
    return enqueue_as<S>(h);
  }
  return enqueue_as<S>(new mail_node(m, S));
}

template <sharing S>
bool actor_cell::enqueue_as(mail_hook* h) noexcept {
  if (core_->stopping()) {
    core_->dead_letter(take(h), this, dead_letter_reason::shutdown);
    return false;
  }
  if (life_.load(std::memory_order_acquire) == life::stopped) {
    core_->dead_letter(take(h), this, dead_letter_reason::stopped);
    return false;
  }
  if (counters_ != nullptr) counters_->pushed();
  mailbox_.push<S>(h);
  schedule_if_idle<S>();
  return true;
}

template <sharing S>
void actor_cell::schedule_if_idle() noexcept {
  // seq_cst load: pairs with end_turn()'s seq_cst store and mailbox check
  // (Dekker): either we see the actor idle, or its last check sees our push.
  if (scheduled_.load(std::memory_order_seq_cst)) return;
  // seq_cst exchange: exactly one of the racing senders wins the right to schedule.
  if (atomics<S>::exchange(scheduled_, true, std::memory_order_seq_cst)) return;
  if (core_->detached()) return;  // the executor is gone; nothing can be queued any more
  add_ref<S>();  // the executor's reference, dropped when a turn ends idle
  core_->exec().schedule(this);
}

void actor_cell::start() noexcept {
  // An actor born during shutdown is stopped at once, so it cannot outlive it.
  if (core_->stopping()) {
    std::uint8_t none = no_reason;
    stop_reason_.compare_exchange_strong(none, static_cast<std::uint8_t>(exit_reason::shutdown));
    life_.store(life::stop_requested, std::memory_order_seq_cst);
  }
  // seq_cst store, then the mailbox check: the same handshake as end_turn().
  scheduled_.store(false, std::memory_order_seq_cst);
  if ((!mailbox_.empty() || life_.load(std::memory_order_seq_cst) == life::stop_requested) &&
      !scheduled_.exchange(true, std::memory_order_seq_cst)) {
    if (core_->detached()) return;
    add_ref();
    core_->exec().schedule(this);
  }
}

void actor_cell::request_stop(exit_reason why, std::string what) noexcept {
  std::uint8_t none = no_reason;
  // acq_rel CAS: the first request's reason wins; close() reads it after
  // seeing stop_requested, which this thread sets below.
  if (stop_reason_.compare_exchange_strong(none, static_cast<std::uint8_t>(why), std::memory_order_acq_rel) &&
      !what.empty())
    record_failure(std::move(what));
  life expected = life::running;
  // seq_cst CAS: pairs with end_turn()'s seq_cst read of life_ (Dekker, as for pushes).
  if (life_.compare_exchange_strong(expected, life::stop_requested, std::memory_order_seq_cst))
    schedule_if_idle();
}

template <class Fn>
void actor_cell::invoke_handler(mail_hook* h, Fn&& fn) noexcept {
  std::string error;
  bool threw = false;
  {
    current_message_scope scope{h->msg()};
    const handler_timer timer{core_->metrics(), counters_};
    try {
      fn();
    } catch (const std::exception& e) {
      threw = true;
      error = e.what();
    } catch (...) {
      threw = true;
      error = "unknown exception";
    }
  }
  if (threw)
    fail(h, std::move(error));
  else if (!adopt_task(h))  // a suspended coroutine handler keeps its message
    finish(h);
}

void actor_cell::dispatch(mail_hook* h) noexcept {
  const message& m = *h->msg();
  const handler_fn f = table_->find(m.type());
  if (f == nullptr) {
    core_->dead_letter(take(h), this, dead_letter_reason::unhandled);
    return;
  }
  invoke_handler(h, [&] { f(*behaviour_, m); });
}

void actor_cell::handle(mail_hook* h) noexcept {
  if (lifecycle_.load(std::memory_order_relaxed) != nullptr && h->msg()->type() == type_id_of<idle_timeout>())
    handle_idle(h);
  else
    dispatch(h);
}

void actor_cell::handle_idle(mail_hook* h) noexcept {
  std::function<void()> on_idle;  // set when the timeout has a callback instead of a handler
  if (!accept_idle(*h->msg(), on_idle))
    finish(h);  // a timeout superseded since it was sent
  else if (on_idle)
    invoke_handler(h, on_idle);
  else
    dispatch(h);
}

void actor_cell::fail(mail_hook* h, std::string what) noexcept {
  if (const message_meta* meta = h->msg()->meta(); meta != nullptr && meta->replies != nullptr)
    meta->replies->fail(what.c_str());
  core_->dead_letter(take(h), this, dead_letter_reason::failed);
  supervise_failure(std::move(what));  // outside the handler's scope: a restart builds afresh
}

void actor_cell::close() noexcept {
  std::uint8_t none = no_reason;
  stop_reason_.compare_exchange_strong(none, static_cast<std::uint8_t>(exit_reason::stopped),
                                       std::memory_order_acq_rel);
  life_.store(life::stopped, std::memory_order_seq_cst);
  destruct();
  notify_exit();
}

void actor_cell::drain(dead_letter_reason why) noexcept {
  while (mail_hook* h = pop()) core_->dead_letter(take(h), this, why);
}

void actor_cell::run() noexcept {
  if (core_->sharing_mode() == sharing::confined)
    turn<sharing::confined>();
  else
    turn<sharing::shared>();
}

template <sharing S>
void actor_cell::turn() noexcept {
  if (signals_.load(std::memory_order_acquire) != 0) apply_signals();
  if (tasks_ != nullptr) resume_woken();
  const std::uint32_t budget = core_->throughput();
  std::uint32_t handled = 0;
  idle_turn_hits_ = 0;
  while (handled < budget && !suspended_ && !mail_held() && life_.load(std::memory_order_relaxed) == life::running &&
         !core_->stopping()) {
    mail_hook* h = pop<S>();
    if (h == nullptr) break;
    if (screened_out(h)) {
      finish(h);
      ++handled;
      continue;
    }
    turn_handled_ = handled;
    handle(h);
    ++handled;
  }
  if (handled > idle_turn_hits_) note_activity();
  if (life_.load(std::memory_order_acquire) == life::stop_requested) close();
  if (core_->stopping())
    drain(dead_letter_reason::shutdown);
  else if (life_.load(std::memory_order_relaxed) == life::stopped)
    drain(dead_letter_reason::stopped);
  end_turn<S>(handled == budget);
}

template <sharing S>
void actor_cell::end_turn(bool used_whole_turn) noexcept {
  // Read the consumer-only half before giving up the turn: once the flag is
  // clear another worker may own the mailbox.
  // A suspended actor (waiting out a restart backoff) ignores its mail until resumed.
  // So does one whose plain coroutine handler is suspended, until it ends.
  const bool mail_counts = !suspended_ && !mail_held();
  const bool drained = mailbox_.consumer_drained();
  const task_state* const tasks = tasks_;  // another turn may set tasks_ once the flag is clear
  // seq_cst store: first half of the Dekker pattern with schedule_if_idle(),
  // request_stop() and raise(); the loads below are the second half.
  atomics<S>::store(scheduled_, false, std::memory_order_seq_cst);
  bool more = (mail_counts && (!drained || !mailbox_.nothing_claimed())) ||
              life_.load(std::memory_order_seq_cst) == life::stop_requested ||
              signals_.load(std::memory_order_seq_cst) != 0 || wakes_pending(tasks);
  // seq_cst exchange: a sender may have claimed the turn since our store.
  if (more && !atomics<S>::exchange(scheduled_, true, std::memory_order_seq_cst)) {
    if (used_whole_turn)
      core_->exec().yield(this);
    else
      core_->exec().schedule(this);
    return;  // the executor keeps its reference
  }
  release<S>();
}

// Other files schedule through the shared path.
template void actor_cell::schedule_if_idle<sharing::shared>() noexcept;

}  // namespace detail

actor::actor() noexcept : cell_{detail::constructing} {}

const message* current_message() noexcept { return detail::current; }

actor_ref actor::self() const noexcept { return cell_->self_ref(); }

}  // namespace courier
