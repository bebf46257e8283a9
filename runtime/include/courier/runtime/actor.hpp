#pragma once

#include <functional>
#include <new>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/detail/actor_cell.hpp"
#include "courier/runtime/monitor.hpp"
#include "courier/runtime/supervision.hpp"
#include "courier/runtime/task.hpp"

namespace courier {

namespace detail {
/// True if a spawn's first argument is a supervision spec.
template <class... Args>
inline constexpr bool leads_with_supervision = false;
template <class First, class... Rest>
inline constexpr bool leads_with_supervision<First, Rest...> =
    std::is_same_v<std::remove_cvref_t<First>, supervision>;

}  // namespace detail

/// The message types an actor handles: `using handles = courier::handles<A, B>;`.
template <class... Ms>
struct handles {};

/// Base class of every actor. A derived class declares the message types it
/// handles and one `void on(const M&)` overload per type:
///
///     class counter : public courier::actor {
///      public:
///       using handles = courier::handles<add, reset>;
///       void on(const add& a) { n_ += a.n; }
///       void on(const reset&) { n_ = 0; }
///      private:
///       long n_ = 0;
///     };
///
/// A message of any other type becomes a dead letter with reason `unhandled`.
///
/// Lifecycle (docs/runtime.md, "Supervision"): an actor can monitor others
/// (a `down` message when they stop), link to them (shared fate, or an
/// `exit_signal` when trapping exits), supervise children it spawns with
/// spawn_child(), and ask for an `idle_timeout` after a quiet period.
class actor {
 public:
  actor() noexcept;
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

 protected:
  ~actor() = default;

  /// This actor's own handle.
  [[nodiscard]] actor_ref self() const noexcept;

  /// Stops this actor once the running handler returns; monitors see reason `normal`.
  void stop() noexcept { cell_->request_stop(exit_reason::normal); }

  /// Spawns a top-level actor (not a child of this one) in this actor's system.
  template <class A, class... Args>
    requires(!detail::leads_with_supervision<Args...>)
  actor_ref spawn(Args&&... args);

  /// Spawns a supervised top-level actor; see system::spawn(const supervision&, ...).
  template <class A, class... Args>
  actor_ref spawn(const supervision& spec, Args&&... args);

  /// Spawns a child that this actor supervises under `spec`. A child stops
  /// (reason `shutdown`) when this actor stops or restarts; an escalated
  /// failure of the child fails this actor. Restarts rebuild the child from
  /// copies of `args`.
  template <class A, class... Args>
  actor_ref spawn_child(const supervision& spec, Args&&... args);

  /// Whether one child's failure restarts only it or all of this actor's
  /// children (default one_for_one).
  void supervise_children(supervision_group g) noexcept { cell_->set_group(g); }

  /// Asks for a `down` message once `who` stops; at once if it already has.
  monitor_id monitor(const actor_ref& who);
  /// Cancels a monitor; false if its down message was already sent.
  bool demonitor(const monitor_id& id) noexcept;

  /// Links this actor with `peer`: when either fails, the other stops with
  /// reason `failed` too, unless it traps exits. Linking a stopped actor
  /// reacts to its stop at once.
  void link(const actor_ref& peer) { cell_->link(peer); }
  void unlink(const actor_ref& peer) noexcept { cell_->unlink(peer); }
  /// Receive an `exit_signal` when a linked actor stops, instead of sharing its fate.
  void trap_exit(bool on = true) noexcept { cell_->set_trap_exit(on); }

  /// After `d` with no message, this actor receives an `idle_timeout`
  /// (once; the next message rearms it). Zero disarms it.
  void set_idle_timeout(duration d) { cell_->set_idle_timeout(d, {}); }
  /// Like set_idle_timeout(d), but runs `on_idle` in this actor instead of a handler.
  void set_idle_timeout(duration d, std::function<void()> on_idle) {
    cell_->set_idle_timeout(d, std::move(on_idle));
  }

 private:
  friend void detail::start_task(actor& self, detail::task_frame f);
  detail::actor_cell* cell_;
};

/// The message the calling thread's handler is handling, or nullptr outside
/// a handler. The bus reads it to set causation and correlation ids.
const message* current_message() noexcept;

namespace detail {

/// Lets actor's default constructor find the cell it is being built in.
struct constructing_scope {
  explicit constructing_scope(actor_cell* c) noexcept;
  ~constructing_scope();
  constructing_scope(const constructing_scope&) = delete;
  constructing_scope& operator=(const constructing_scope&) = delete;
  actor_cell* previous;
};

template <class A, class M>
concept handles_message = requires(A& a, const M& m) { a.on(m); };

/// Calls `on(m)`; a non-void result is the reply to a request. A coroutine
/// handler (a courier::task) is started; the task's value is the reply.
template <class A, class M>
void invoke(actor& self, const message& m) {
  using R = decltype(static_cast<A&>(self).on(m.template as<M>()));
  if constexpr (std::is_void_v<R>) {
    static_cast<A&>(self).on(m.template as<M>());
  } else if constexpr (is_task<R>) {
    start_task(self, static_cast<A&>(self).on(m.template as<M>()).release());
  } else {
    R r = static_cast<A&>(self).on(m.template as<M>());
    const message_meta* meta = m.meta();
    if (meta != nullptr && meta->replies != nullptr)
      meta->replies->reply(make_message<std::remove_cvref_t<R>>(std::move(r)));
  }
}

template <class A, class... Ms>
dispatch_table build_table(handles<Ms...>) {
  static_assert((handles_message<A, Ms> && ...),
                "every type in A::handles needs a matching `on(const M&)` overload");
  dispatch_table t;
  (t.set(type_id_of<Ms>(), &invoke<A, Ms>), ...);
  return t;
}

/// The dispatch table of actor type A, built once on first use.
template <class A>
const dispatch_table& table_of() {
  static_assert(requires { typename A::handles; },
                "an actor declares `using handles = courier::handles<...>;`");
  static const dispatch_table table = [] {
    dispatch_table t = build_table<A>(typename A::handles{});
    t.set_metrics_type(register_actor_type(typeid(A)));
    if constexpr (requires(A& a, const message& m) { a.on_any(m); })
      t.set_fallback([](actor& self, const message& m) { static_cast<A&>(self).on_any(m); });
    return t;
  }();
  return table;
}

/// The cell of an actor of type A, with room for the behaviour inline so a
/// spawn is one allocation.
template <class A>
class cell_impl final : public actor_cell {
 public:
  template <class... Args>
  explicit cell_impl(system_core& core, Args&&... args)
      : actor_cell{core, table_of<A>()} {
    construct(std::forward<Args>(args)...);
  }

  /// Builds the behaviour in place; spawn and every restart call it.
  template <class... Args>
  void construct(Args&&... args) {
    constructing_scope scope{this};
    behaviour_ = ::new (static_cast<void*>(&storage_)) A(std::forward<Args>(args)...);
  }

 private:
  void destruct() noexcept override {
    drop_tasks();  // a suspended handler coroutine refers to the behaviour
    if (behaviour_ != nullptr) std::launder(reinterpret_cast<A*>(&storage_))->~A();
    behaviour_ = nullptr;
  }
  ~cell_impl() override { destruct(); }

  alignas(A) unsigned char storage_[sizeof(A)];
};

/// Creates an actor of type A in `core`'s system and returns its handle.
template <class A, class... Args>
actor_ref spawn(system_core& core, Args&&... args) {
  static_assert(std::is_base_of_v<actor, A>, "actors derive from courier::actor");
  auto* cell = new cell_impl<A>(core, std::forward<Args>(args)...);
  core.spawned.fetch_add(1, std::memory_order_relaxed);
  cell->start();
  return actor_ref::adopt(cell);
}

/// Creates a supervised actor of type A, a child of `parent` (or top level
/// if null), that restarts by constructing A from copies of `args`.
template <class A, class... Args>
actor_ref spawn_supervised(system_core& core, actor_cell* parent, const supervision& spec, Args&&... args) {
  static_assert(std::is_base_of_v<actor, A>, "actors derive from courier::actor");
  static_assert((std::is_copy_constructible_v<std::decay_t<Args>> && ...),
                "a supervised actor is rebuilt from copies of its spawn arguments");
  std::function<void(actor_cell&)> rebuild = [... saved = std::decay_t<Args>(args)](actor_cell& c) {
    static_cast<cell_impl<A>&>(c).construct(saved...);
  };
  auto* cell = new cell_impl<A>(core, std::forward<Args>(args)...);
  core.spawned.fetch_add(1, std::memory_order_relaxed);
  cell->adopt_supervision(parent, spec, std::move(rebuild));
  cell->start();
  return actor_ref::adopt(cell);
}

}  // namespace detail

template <class A, class... Args>
  requires(!detail::leads_with_supervision<Args...>)
actor_ref actor::spawn(Args&&... args) {
  return detail::spawn<A>(cell_->core(), std::forward<Args>(args)...);
}

template <class A, class... Args>
actor_ref actor::spawn(const supervision& spec, Args&&... args) {
  return detail::spawn_supervised<A>(cell_->core(), nullptr, spec, std::forward<Args>(args)...);
}

template <class A, class... Args>
actor_ref actor::spawn_child(const supervision& spec, Args&&... args) {
  return detail::spawn_supervised<A>(cell_->core(), cell_, spec, std::forward<Args>(args)...);
}

}  // namespace courier
