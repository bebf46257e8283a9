#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/detail/actor_cell.hpp"

namespace courier {

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
class actor {
 public:
  actor() noexcept;
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

 protected:
  ~actor() = default;

  /// This actor's own handle.
  [[nodiscard]] actor_ref self() const noexcept;

  /// Stops this actor once the running handler returns.
  void stop() noexcept { detail::request_stop(cell_); }

  /// Spawns a sibling in this actor's system.
  template <class A, class... Args>
  actor_ref spawn(Args&&... args);

 private:
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

/// Calls `on(m)`; a non-void result is the reply to a request.
template <class A, class M>
void invoke(actor& self, const message& m) {
  using R = decltype(static_cast<A&>(self).on(m.template as<M>()));
  if constexpr (std::is_void_v<R>) {
    static_cast<A&>(self).on(m.template as<M>());
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
    constructing_scope scope{this};
    behaviour_ = ::new (static_cast<void*>(&storage_)) A(std::forward<Args>(args)...);
  }

 private:
  void destruct() noexcept override {
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

}  // namespace detail

template <class A, class... Args>
actor_ref actor::spawn(Args&&... args) {
  return detail::spawn<A>(cell_->core(), std::forward<Args>(args)...);
}

}  // namespace courier
