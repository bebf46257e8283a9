#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/message.hpp"

namespace courier {

class actor;

namespace detail {
class actor_cell;
class task_promise_base;
}  // namespace detail

/// Resumes one suspended coroutine handler, later, inside its actor's own
/// turn. An awaitable gets one from the promise's suspend() and calls wake()
/// once; a handler whose waker is never woken stays suspended until its actor
/// stops or restarts.
class waker {
 public:
  waker() noexcept = default;
  waker(waker&&) noexcept = default;
  waker& operator=(waker&&) noexcept = default;

  /// Schedules the handler's resumption; nothing happens if the actor dropped
  /// the handler meanwhile (it stopped or restarted). @threadsafe
  void wake() noexcept;
  explicit operator bool() const noexcept { return static_cast<bool>(cell_); }

 private:
  friend class detail::task_promise_base;
  waker(actor_ref cell, std::uint64_t id) noexcept : cell_{std::move(cell)}, id_{id} {}
  actor_ref cell_;  // keeps the cell, and so its table of suspended handlers, alive
  std::uint64_t id_ = 0;
};

namespace detail {

/// What every handler coroutine's promise shares with the cell that runs it.
class task_promise_base {
 public:
  /// Starts suspended: the cell resumes it once it knows the frame.
  std::suspend_always initial_suspend() const noexcept { return {}; }
  /// Stays suspended at the end: the cell reads the result, then destroys the frame.
  std::suspend_always final_suspend() const noexcept { return {}; }
  /// Keeps the exception for the cell, which hands it to supervision.
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  /// Marks the coroutine suspended until the returned waker is woken.
  /// @pre called from an awaiter's await_suspend, inside the actor's turn.
  waker suspend() noexcept;

  /// True for a reentrant_task: it does not hold the mailbox while suspended.
  [[nodiscard]] bool reentrant() const noexcept { return reentrant_; }

 protected:
  explicit task_promise_base(bool reentrant) noexcept : reentrant_{reentrant} {}
  ~task_promise_base() = default;
  message_ptr reply_;  // the co_returned value, boxed for a request's reply channel

 private:
  friend class actor_cell;
  actor_cell* cell_ = nullptr;     // set when the cell starts the coroutine
  mail_hook* hook_ = nullptr;      // the message being handled, held until the coroutine ends
  std::uint64_t waiting_for_ = 0;  // the id of the waker that resumes it; 0 when running
  std::exception_ptr error_;
  bool reentrant_;
};

template <class T>
class task_promise_value : public task_promise_base {
 public:
  using task_promise_base::task_promise_base;
  /// Boxes the co_returned value as the reply.
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) { reply_ = make_message<T>(std::forward<U>(v)); }
};

template <>
class task_promise_value<void> : public task_promise_base {
 public:
  using task_promise_base::task_promise_base;
  /// A task<void> has no reply.
  void return_void() const noexcept {}
};

/// A handler coroutine's frame, type-erased.
struct task_frame {
  std::coroutine_handle<> co;
  task_promise_base* promise = nullptr;
};

/// Starts handler coroutine `f` in the current turn of the actor `self`.
/// Throws what the coroutine threw if it failed before its first suspension.
void start_task(actor& self, task_frame f);

}  // namespace detail

/// The return type of a coroutine handler, `courier::task<R> on(const M&)`.
/// Its co_returned value is the reply when the message is a request. While it
/// is suspended in a co_await, the actor handles no other message: they wait
/// in the mailbox, in order, until the coroutine returns. @see reentrant_task
template <class T = void, bool Reentrant = false>
class [[nodiscard]] basic_task {
 public:
  struct promise_type final : detail::task_promise_value<T> {
    promise_type() noexcept : detail::task_promise_value<T>{Reentrant} {}
    /// The task that owns the new frame until the runtime takes it.
    basic_task get_return_object() noexcept {
      return basic_task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
  };

  basic_task(basic_task&& o) noexcept : co_{std::exchange(o.co_, nullptr)} {}
  basic_task& operator=(basic_task&&) = delete;
  ~basic_task() {
    if (co_) co_.destroy();
  }

  /// Hands the coroutine to its caller (the runtime), which then owns its frame.
  [[nodiscard]] detail::task_frame release() noexcept {
    promise_type& p = co_.promise();
    return {std::exchange(co_, nullptr), &p};
  }

 private:
  explicit basic_task(std::coroutine_handle<promise_type> h) noexcept : co_{h} {}
  std::coroutine_handle<promise_type> co_;
};

/// A handler coroutine that holds the actor's mailbox while it is suspended.
template <class T = void>
using task = basic_task<T, false>;

/// A handler coroutine during whose co_await the actor keeps handling other
/// messages (and resuming other coroutines), still one at a time. The actor's
/// state may therefore change across a co_await.
template <class T = void>
using reentrant_task = basic_task<T, true>;

namespace detail {
template <class R>
inline constexpr bool is_task = false;
template <class T, bool Reentrant>
inline constexpr bool is_task<basic_task<T, Reentrant>> = true;
}  // namespace detail

}  // namespace courier
