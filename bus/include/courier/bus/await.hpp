#pragma once

#include <atomic>
#include <coroutine>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "courier/bus/bus.hpp"
#include "courier/runtime/task.hpp"

namespace courier {

namespace detail {

/// What a suspended co_request shares with the completion of its request.
template <class R>
struct awaited_reply {
  std::optional<courier::reply<R>> outcome;  // written by the completion before it wakes
  waker resume;                              // belongs to whoever sets `claimed`
  std::atomic<bool> claimed{false};          // by the completion, or by an awaiter being destroyed
};

}  // namespace detail

/// A request awaited from a coroutine handler (see bus::co_request). The
/// actor's worker is never blocked: the handler suspends, and resumes in one
/// of the actor's own turns once the reply, or the reason there is none, is in.
template <class R>
class [[nodiscard]] request_awaitable {
 public:
  request_awaitable(const request_awaitable&) = delete;
  request_awaitable& operator=(const request_awaitable&) = delete;
  /// Destroyed while suspended (its actor stopped or restarted): the request
  /// is cancelled and counted in bus_stats::cancelled; a later reply is a late one.
  ~request_awaitable() {
    if (!state_ || resumed_) return;
    // acq_rel: a completion that lost this exchange does not touch the waker, so we may drop it.
    if (!state_->claimed.exchange(true, std::memory_order_acq_rel)) state_->resume = waker{};
    pending_->abandon();
  }

  /// Never ready: the request is sent once the handler has suspended.
  bool await_ready() const noexcept { return false; }

  /// Sends the request; the reply's completion wakes the handler.
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    static_assert(
        std::is_base_of_v<detail::task_promise_base, P>,
        "co_request is awaited inside a courier::task or courier::reentrant_task handler");
    state_ = std::make_shared<detail::awaited_reply<R>>();
    state_->resume = h.promise().suspend();
    pending_ = bus::make_request<R>([s = state_](courier::reply<R> r) {
      s->outcome.emplace(std::move(r));
      // acq_rel: exactly one of this and the destructor's exchange owns the waker.
      if (!s->claimed.exchange(true, std::memory_order_acq_rel)) s->resume.wake();
    });
    bus_->send_request(std::move(msg_), *env_, pending_, timeout_);
  }

  /// The reply, or timeout, no_responders, handler_failed (with the text) or cancelled.
  courier::reply<R> await_resume() {
    resumed_ = true;
    return std::move(*state_->outcome);  // set before the completion woke the handler
  }

 private:
  friend class bus;
  request_awaitable(bus& b, message_ptr msg, envelope& env, duration timeout) noexcept
      : bus_{&b}, msg_{std::move(msg)}, env_{&env}, timeout_{timeout} {}

  bus* bus_;
  message_ptr msg_;  // sent by await_suspend; never sent if the awaitable is not awaited
  envelope* env_;
  duration timeout_;
  std::shared_ptr<detail::awaited_reply<R>> state_;
  std::shared_ptr<detail::request_base> pending_;
  bool resumed_ = false;
};

template <class R, class Q>
request_awaitable<R> bus::co_request(std::string_view subject, Q&& q, duration timeout) {
  using V = std::remove_cvref_t<Q>;
  auto* msg = new_bus_message<V>(subject, std::forward<Q>(q), {});
  envelope& env = msg->env();
  return request_awaitable<R>{*this, message_ptr::adopt(msg), env, timeout};
}

}  // namespace courier
