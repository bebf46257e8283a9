#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/detail/system_core.hpp"
#include "courier/runtime/executor.hpp"
#include "courier/runtime/detail/metrics_registry.hpp"
#include "courier/runtime/memory.hpp"
#include "courier/runtime/mpsc_queue.hpp"
#include "courier/runtime/sharing.hpp"
#include "courier/runtime/supervision.hpp"

namespace courier {
class actor;
}

namespace courier::detail {

struct lifecycle_state;
struct task_state;
struct task_frame;

/// Calls the handler for a message's type on a behaviour.
using handler_fn = void (*)(actor& self, const message& msg);

/// Marks the message a handler on this thread is handling.
struct current_message_scope {
  explicit current_message_scope(const message* m) noexcept;
  ~current_message_scope();
  current_message_scope(const current_message_scope&) = delete;
  current_message_scope& operator=(const current_message_scope&) = delete;
  const message* previous;
};

/// A per-actor-type table from message type id to handler.
class dispatch_table {
 public:
  void set(type_id t, handler_fn f) {
    if (t >= handlers_.size()) handlers_.resize(t + 1, nullptr);
    handlers_[t] = f;
  }
  /// A handler for every type not in the table (used by the bus's callback actors).
  void set_fallback(handler_fn f) noexcept { fallback_ = f; }
  [[nodiscard]] handler_fn find(type_id t) const noexcept {
    return t < handlers_.size() && handlers_[t] != nullptr ? handlers_[t] : fallback_;
  }
  /// The actor type's index in the metrics (register_actor_type()).
  void set_metrics_type(std::uint32_t index) noexcept { metrics_type_ = index; }
  [[nodiscard]] std::uint32_t metrics_type() const noexcept { return metrics_type_; }

 private:
  std::vector<handler_fn> handlers_;  // indexed by type id; ids are dense
  handler_fn fallback_ = nullptr;
  std::uint32_t metrics_type_ = 0;
};

/// The runtime half of an actor: its mailbox, its scheduling state and a
/// pointer to its behaviour (the user's object). The behaviour can be torn
/// down and rebuilt while the cell, and so every actor_ref, stays the same.
class actor_cell : public runnable, public uses_courier_allocator {
 public:
  enum class life : std::uint8_t { running, stop_requested, stopped };

  actor_cell(system_core& core, const dispatch_table& table) noexcept;
  actor_cell(const actor_cell&) = delete;
  actor_cell& operator=(const actor_cell&) = delete;

  /// Queues `h` and schedules the actor if it was idle; false if dead-lettered.
  bool enqueue(mail_hook* h) noexcept;
  /// Queues a reference to `m` (actor_ref::send_shared()): in its built-in
  /// hook if still free, else in a new mail_node.
  bool enqueue_shared(message* m) noexcept;
  /// Stops the actor after its current handler. The first request's reason
  /// (and text, for `failed`) is the one monitors and links see. @threadsafe
  void request_stop(exit_reason why = exit_reason::stopped, std::string what = {}) noexcept;
  [[nodiscard]] life state() const noexcept { return life_.load(std::memory_order_acquire); }
  [[nodiscard]] system_core& core() const noexcept { return *core_; }
  /// This actor's type index in the metrics. @threadsafe
  [[nodiscard]] std::uint32_t metrics_type() const noexcept { return table_->metrics_type(); }
  /// This actor's per-message counters, or nullptr when metrics are off.
  [[nodiscard]] const cell_counters* counters() const noexcept { return counters_; }

  template <sharing S = sharing::shared>
  void add_ref() noexcept {
    atomics<S>::fetch_add(refs_, 1u, std::memory_order_relaxed);
  }
  /// A new handle to this cell.
  [[nodiscard]] actor_ref self_ref() noexcept {
    add_ref();
    return actor_ref::adopt(this);
  }
  /// Adds a reference unless the count already reached zero.
  bool try_add_ref() noexcept;
  template <sharing S = sharing::shared>
  void release() noexcept {
    // acq_rel: the last owner must see every other owner's writes to the cell.
    if (atomics<S>::fetch_sub(refs_, 1u, std::memory_order_acq_rel) == 1) destroy();
  }

  void run() noexcept final;
  /// Called once the behaviour is constructed: schedules what it sent itself.
  void start() noexcept;

  // Lifecycle (lifecycle.cpp, supervision.cpp). See detail/lifecycle.hpp.

  /// The lifecycle state, created on first use; nullptr once the actor
  /// stopped without ever having one. @threadsafe
  lifecycle_state* lifecycle() noexcept;
  /// Makes this a supervised child of `parent` (may be null: top level).
  /// @pre called by spawn, before start().
  void adopt_supervision(actor_cell* parent, const supervision& spec,
                         std::function<void(actor_cell&)> rebuild);
  /// Registers `watcher` for a down message; delivers it at once if this
  /// actor already stopped. Returns the monitor's sequence number. @threadsafe
  std::uint64_t add_watcher(const actor_ref& watcher);
  /// False if the monitor was gone (fired or removed). @threadsafe
  bool remove_watcher(std::uint64_t seq) noexcept;
  /// Links this (running) actor with `peer` both ways. @pre called in this actor's turn.
  void link(const actor_ref& peer);
  void unlink(const actor_ref& peer) noexcept;
  void set_trap_exit(bool on) noexcept;
  void set_group(supervision_group g) noexcept;
  /// Arms (d > 0) or disarms the idle timeout. @pre called in this actor's turn.
  void set_idle_timeout(duration d, std::function<void()> fn);
  /// Restarts the behaviour on the next turn (an all-for-one sibling failed). @threadsafe
  void request_restart() noexcept { raise(signal_restart); }
  /// Fails this actor on its next turn with a child's error. @threadsafe
  void escalate(std::string what) noexcept;

  // Coroutine handlers (task.cpp). See runtime/task.hpp.

  /// Runs handler coroutine `f` until it first suspends or ends; rethrows its
  /// exception. @pre called by a handler, in this actor's turn.
  void begin_task(task_frame f);
  /// Resumes the coroutine waiting for waker `id` in this actor's next turn. @threadsafe
  void wake_task(std::uint64_t id) noexcept;

 protected:
  virtual ~actor_cell();
  /// Destroys the behaviour; the cell stays.
  virtual void destruct() noexcept = 0;
  /// Destroys every suspended handler coroutine; their messages become dead
  /// letters (`stopped`). Called before the behaviour is destroyed.
  void drop_tasks() noexcept;
  actor* behaviour_ = nullptr;

 private:
  // Requests other threads leave for the cell's next turn.
  static constexpr std::uint8_t signal_restart = 1;   // an all-for-one sibling failed
  static constexpr std::uint8_t signal_resume = 2;    // a backoff delay has passed
  static constexpr std::uint8_t signal_escalate = 4;  // a child escalated its failure
  static constexpr std::uint8_t no_reason = 0xff;

  void destroy() noexcept { delete this; }
  // The hot paths come in both sharings; the public entry points pick one
  // by the core's sharing_mode().
  template <sharing S>
  bool enqueue_as(mail_hook* h) noexcept;
  template <sharing S>
  bool enqueue_shared_as(message* m) noexcept;
  template <sharing S = sharing::shared>
  void schedule_if_idle() noexcept;
  template <sharing S>
  void turn() noexcept;
  void raise(std::uint8_t signal) noexcept;
  void apply_signals() noexcept;
  void handle(mail_hook* h) noexcept;
  /// handle() for an idle_timeout: stale ones are dropped, a callback runs instead of a handler.
  void handle_idle(mail_hook* h) noexcept;
  /// Runs the handler for `h`'s message type, or dead-letters it as unhandled.
  void dispatch(mail_hook* h) noexcept;
  /// Runs `fn` as the handler of `h`'s message: counts and times it, sends an
  /// exception to supervision, then finishes `h` or leaves it to a coroutine.
  template <class Fn>
  void invoke_handler(mail_hook* h, Fn&& fn) noexcept;
  bool accept_idle(const message& m, std::function<void()>& callback) noexcept;
  void note_activity() noexcept;
  void arm_idle_locked(lifecycle_state& l, time_point deadline);
  void idle_fired(std::uint64_t generation) noexcept;
  void record_failure(std::string what) noexcept;
  void drop_lifecycle() noexcept;
  void supervise_failure(std::string what) noexcept;
  bool within_intensity(lifecycle_state& l, time_point now) noexcept;
  void restart_now() noexcept;
  void restart_after_backoff(lifecycle_state& l) noexcept;
  void teardown() noexcept;
  void rebuild() noexcept;
  [[nodiscard]] exit_reason exit_reason_now() const noexcept;
  void notify_exit() noexcept;
  /// Reacts to the stop of linked actor `from`: an exit_signal if trapping,
  /// else a stop when `from` failed.
  void linked_exit(const actor_ref& from, exit_reason why, const std::string& what) noexcept;
  void close() noexcept;
  void drain(dead_letter_reason why) noexcept;
  template <sharing S>
  void end_turn(bool used_whole_turn) noexcept;
  void finish(mail_hook* h) noexcept;
  message_ptr take(mail_hook* h) noexcept;
  void retire(mail_node& n) noexcept;
  void fail(mail_hook* h, std::string what) noexcept;
  template <sharing S = sharing::shared>
  mail_hook* pop() noexcept;
  /// Whether `h` is a screening mail_node that refuses its message. Inline:
  /// most mail is the message's own hook or a node that does not screen.
  bool screened_out(mail_hook* h) noexcept {
    if (!screens(h)) return false;
    // The next message's screening likely misses the cache too: start it now.
    if (auto* next = static_cast<mail_hook*>(mailbox_.peek()); next != nullptr && screens(next))
      static_cast<mail_node*>(next)->prepare();
    return !static_cast<mail_node*>(h)->accept();
  }
  static bool screens(mail_hook* h) noexcept {
    return h != &h->msg()->own_hook() && static_cast<mail_node*>(h)->screens;
  }
  task_state& tasks();
  /// Keeps `h` with the coroutine its handler just started, if it started
  /// one and suspended; false otherwise. Inline: most actors have no tasks.
  bool adopt_task(mail_hook* h) noexcept { return tasks_ != nullptr && adopt_started_task(h); }
  bool adopt_started_task(mail_hook* h) noexcept;
  void resume_woken() noexcept;
  void resume_task(task_frame f) noexcept;
  void end_task(task_frame f, std::exception_ptr error) noexcept;
  void free_tasks() noexcept;
  /// A suspended plain task holds the mailbox: no message is handled until it ends.
  [[nodiscard]] bool mail_held() const noexcept { return tasks_ != nullptr && tasks_hold_mail(); }
  [[nodiscard]] bool tasks_hold_mail() const noexcept;
  /// Whether a waker of `tasks` (may be null) woke a coroutine since the last resume_woken().
  [[nodiscard]] static bool wakes_pending(const task_state* tasks) noexcept;

  friend class system_core;
  friend class task_promise_base;
  actor_cell* prev_ = nullptr;  // the core's registry of live cells
  actor_cell* next_ = nullptr;

  mpsc_queue mailbox_;
  system_core* core_;
  const dispatch_table* table_;
  std::atomic<std::uint32_t> refs_{1};
  // Starts set: messages sent while the behaviour is being constructed wait
  // until start(), so a constructor that throws leaves nothing scheduled.
  std::atomic<bool> scheduled_{true};
  std::atomic<life> life_{life::running};
  std::atomic<std::uint8_t> stop_reason_{no_reason};  // an exit_reason, set once
  std::atomic<std::uint8_t> signals_{0};
  bool suspended_ = false;        // turn-owned: waiting out a restart backoff
  std::uint32_t idle_turn_hits_ = 0;  // turn-owned: idle_timeout messages this turn
  std::uint32_t turn_handled_ = 0;    // turn-owned: messages handled before the current one
  std::atomic<lifecycle_state*> lifecycle_{nullptr};
  cell_counters* counters_ = nullptr;  // owned; set only when metrics are on
  task_state* tasks_ = nullptr;  // turn-owned pointer, set once; see task_state for its fields
};

}  // namespace courier::detail
