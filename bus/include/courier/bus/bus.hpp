#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "courier/bus/dedupe.hpp"
#include "courier/bus/envelope.hpp"
#include "courier/bus/errc.hpp"
#include "courier/bus/metrics.hpp"
#include "courier/runtime/system.hpp"

namespace courier {

/// What a bounded subscription does when it is full.
enum class overflow : std::uint8_t {
  block,        ///< The publisher waits up to `block_timeout`, then gets errc::timeout.
  drop_newest,  ///< The new message is dropped and counted.
  drop_oldest,  ///< The oldest waiting message is dropped and counted.
  reject,       ///< publish() returns errc::mailbox_full; the message is counted.
  dead_letter,  ///< The message goes to the dead-letter subject with reason "overflow".
};

struct subscribe_options {
  /// Messages queued for this subscriber at most; 0 means unbounded.
  std::size_t capacity = 0;
  overflow policy = overflow::block;
  duration block_timeout = std::chrono::milliseconds{100};
  /// Remember this many message ids and drop repeats; 0 turns dedupe off.
  /// Checked in the subscriber's turn when unbounded, at publish when bounded.
  std::size_t dedupe_window = 0;
  duration dedupe_max_age = std::chrono::minutes{10};
  /// A custom dedupe store (takes precedence over dedupe_window).
  std::shared_ptr<dedupe_store> dedupe = {};
  /// Competing consumers: one member of the group gets each message,
  /// round-robin, or by the publish key when one is given.
  std::string queue_group = {};
};

struct publish_options {
  std::string key = {};              ///< Partition key for keyed queue groups.
  std::optional<uuid> id = {};       ///< Message id; a fresh UUIDv7 when empty.
  std::optional<duration> ttl = {};  ///< Sets the envelope's deadline.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

/// Per-subscription counters. Once the subscription's queue is empty, every
/// message it matched is in exactly one of delivered (handed to the
/// subscriber's mailbox; with an unbounded dedupe window, let through by the
/// window in the subscriber's turn), duplicates, dropped, rejected,
/// timed_out and dead_lettered.
struct subscription_stats {
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dropped = 0;
  std::uint64_t rejected = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t max_depth = 0;
};

struct bus_stats {
  std::uint64_t published = 0;
  std::uint64_t unroutable = 0;
  std::uint64_t late_replies = 0;
  std::uint64_t requests = 0;
  std::uint64_t request_timeouts = 0;
  /// Requests awaited by a coroutine handler that was destroyed (its actor
  /// stopped or restarted) before it resumed; their outcome was dropped.
  std::uint64_t cancelled = 0;
};

/// Published on `courier.dead_letter.<subject>` for a message no subscriber could take.
struct bus_dead_letter {
  message_ptr original;  ///< The payload and, through envelope_of(), its envelope.
  std::string subject;
  std::string reason;  ///< "overflow", "unroutable", "type_mismatch", ...
};

/// The outcome of a request: the reply, or why there is none.
template <class R>
struct reply {
  result<R> value;
  std::string error_text;  ///< The handler's exception text for errc::handler_failed.
  explicit operator bool() const noexcept { return value.has_value(); }
  const R& operator*() const noexcept { return value.value(); }
  const R* operator->() const noexcept { return &value.value(); }
  [[nodiscard]] errc error() const noexcept { return value.error(); }
};

namespace detail {
struct bus_core;
struct sub_state;
struct request_base;
struct subject_counters;
struct publish_tally;
}  // namespace detail

class bridge;
class bridge_binding;
class codec_registry;
struct bridge_binding_options;
enum class bridge_direction : std::uint8_t;

/// Sees a message on a tapped pattern, of any type, on the publishing thread;
/// what it returns is what publish() reports for it.
using tap_fn = std::function<errc(const message_ptr&)>;
/// Takes over a request on a tapped pattern that no local responder serves;
/// the request's timeout is already running.
using request_tap_fn = std::function<void(const message_ptr&, const std::shared_ptr<detail::request_base>&)>;

template <class R>
class request_awaitable;

/// Unsubscribes when destroyed (or on unsubscribe()).
class subscription {
 public:
  subscription() = default;
  subscription(std::shared_ptr<detail::bus_core> core, std::shared_ptr<detail::sub_state> s)
      : core_{std::move(core)}, state_{std::move(s)} {}
  subscription(subscription&&) noexcept = default;
  subscription& operator=(subscription&& o) noexcept {
    unsubscribe();
    core_ = std::move(o.core_);
    state_ = std::move(o.state_);
    return *this;
  }
  ~subscription() { unsubscribe(); }

  void unsubscribe() noexcept;
  [[nodiscard]] subscription_stats stats() const noexcept;
  /// Its id, as in bus_metrics::subscription() and delivery::subscription(); 0 when empty.
  [[nodiscard]] std::uint64_t id() const noexcept;
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::bus_core> core_;
  std::shared_ptr<detail::sub_state> state_;
};

/// One message on its way to one subscription, as a delivery_interceptor sees it.
/// The one the bus passes refers to the bus's own objects for the duration of
/// the call (no reference counting on the hot path); a copy owns what it
/// needs, so keep a copy to deliver later.
class delivery {
 public:
  delivery(const delivery& o) : owned_sub_{*o.sub_}, owned_msg_{*o.msg_}, id_{o.id_} {}
  delivery& operator=(const delivery& o) {
    owned_sub_ = *o.sub_;
    owned_msg_ = *o.msg_;
    sub_ = &owned_sub_;
    msg_ = &owned_msg_;
    tally_ = nullptr;
    id_ = o.id_;
    return *this;
  }
  ~delivery() = default;

  /// The message; envelope_of(*message()) is its envelope.
  [[nodiscard]] const message_ptr& message() const noexcept { return *msg_; }
  /// The subscription's id: unique in its bus, assigned in subscribe order from 1.
  [[nodiscard]] std::uint64_t subscription() const noexcept { return id_; }
  /// The pattern the subscription was made with.
  [[nodiscard]] std::string_view pattern() const noexcept;
  /// Hands the message to the subscription now, exactly as the bus does without an
  /// interceptor (dedupe, capacity and overflow policy apply), and returns that outcome.
  /// May be called any number of times, later, from any thread; once the subscription
  /// is gone it delivers nothing and returns errc::cancelled.
  errc deliver() const noexcept;

 private:
  friend struct detail::bus_core;
  delivery(const std::shared_ptr<detail::sub_state>& s, std::uint64_t id, const message_ptr& m,
           detail::publish_tally* tally) noexcept
      : sub_{&s}, msg_{&m}, tally_{tally}, id_{id} {}
  std::shared_ptr<detail::sub_state> owned_sub_;
  message_ptr owned_msg_;
  const std::shared_ptr<detail::sub_state>* sub_ = &owned_sub_;
  const message_ptr* msg_ = &owned_msg_;
  // The publish's per-subject count, valid only during the call; a copy has none.
  detail::publish_tally* tally_ = nullptr;
  std::uint64_t id_ = 0;
};

/// Sees every delivery of a published message or request to a subscription
/// before it happens, on the publishing thread, and decides what happens.
/// Used by courier::sim to inject faults.
class delivery_interceptor {
 public:
  virtual ~delivery_interceptor() = default;
  /// Decides one delivery: call d.deliver() now, later (keep a copy of `d`),
  /// several times, or never. What it returns is what publish() reports for
  /// that subscriber.
  virtual errc intercept(const delivery& d) = 0;
  /// Asked once per published message or request, before its deliveries.
  /// True lets the bus make them itself, exactly as with no interceptor, and
  /// report them to delivered() instead of asking intercept(): the fast path
  /// for a message the interceptor would leave alone. The default asks intercept().
  virtual bool passes(const message_ptr&) { return false; }
  /// A delivery the bus made itself after passes().
  struct report {
    std::uint64_t subscription;
    std::string_view pattern;  ///< The subscription's; valid during the call.
    errc outcome;
  };
  /// Deliveries of `m`, which passes() let through: `first`, then `also`
  /// more like it, to the subscriptions after it that take messages straight
  /// into the subscriber's mailbox (no capacity and no queue group), each
  /// with outcome ok. So a fan-out costs a call, not one per subscriber.
  /// Calls come in the order the deliveries were made.
  virtual void delivered(const message_ptr& /*m*/, const report& /*first*/, std::size_t /*also*/) {}
};

/// An interceptor that asks `decide` about every delivery.
std::shared_ptr<delivery_interceptor> intercept_each(std::function<errc(const delivery&)> decide);

struct bus_config {
  /// Also publish unroutable messages on the dead-letter subject.
  bool dead_letter_unroutable = false;
  /// Prefix of dead-letter subjects.
  std::string dead_letter_prefix = "courier.dead_letter";
  /// When set, every delivery to a subscription goes through it (see delivery_interceptor).
  std::shared_ptr<delivery_interceptor> intercept = {};
  /// Subjects that get their own metrics entry; later ones share the entry with an empty subject.
  std::size_t metrics_subjects = 4096;
};

/// Pub/sub and request-reply over subjects, on top of an actor system.
class bus {
 public:
  explicit bus(system& sys, bus_config cfg = {});
  ~bus();
  bus(const bus&) = delete;
  bus& operator=(const bus&) = delete;

  /// Delivers every T published on a subject matching `pattern` to `target`.
  /// Returns an empty subscription with errc::invalid_subject on a bad pattern. @threadsafe
  template <class T>
  result<subscription> subscribe(std::string_view pattern, const actor_ref& target,
                                 subscribe_options opts = {}) {
    return subscribe_erased(pattern, type_id_of<T>(), target, std::move(opts), false, false);
  }

  /// Runs `fn` for every T published on a matching subject, on the executor,
  /// one call at a time. @threadsafe
  template <class T, class F>
    requires std::is_invocable_v<F&, const T&>
  result<subscription> subscribe(std::string_view pattern, F fn, subscribe_options opts = {}) {
    return subscribe_erased(pattern, type_id_of<T>(), spawn_callback<T>(std::move(fn)), std::move(opts),
                            false, true);
  }

  /// Makes `target` answer requests of type Q on `subject`: its handler's
  /// return value is the reply. @threadsafe
  template <class Q>
  result<subscription> serve(std::string_view subject, const actor_ref& target, subscribe_options opts = {}) {
    return subscribe_erased(subject, type_id_of<Q>(), target, std::move(opts), true, false);
  }

  /// Publishes `value` on `subject`. Returns ok, invalid_subject, or the
  /// overflow outcome of a bounded subscriber (mailbox_full or timeout);
  /// the other subscribers still receive it. @threadsafe
  template <class T>
  errc publish(std::string_view subject, T&& value, publish_options opts = {}) {
    return publish_erased(
        message_ptr::adopt(new_bus_message<std::remove_cvref_t<T>>(subject, std::forward<T>(value), std::move(opts))));
  }

  /// Sends a request of type Q to one responder on `subject`; the reply (or
  /// timeout, no_responders, handler_failed) completes the future. @threadsafe
  template <class R, class Q>
  std::future<reply<R>> request(std::string_view subject, Q&& q, duration timeout) {
    auto p = std::make_shared<std::promise<reply<R>>>();
    auto f = p->get_future();
    request<R>(subject, std::forward<Q>(q), timeout, [p](reply<R> r) { p->set_value(std::move(r)); });
    return f;
  }

  /// Callback form: `done` runs once, on whichever thread completes the request.
  template <class R, class Q>
  void request(std::string_view subject, Q&& q, duration timeout, std::function<void(reply<R>)> done) {
    using V = std::remove_cvref_t<Q>;
    auto pending = make_request<R>(std::move(done));
    auto* msg = new_bus_message<V>(subject, std::forward<Q>(q), {});
    send_request(message_ptr::adopt(msg), msg->env(), std::move(pending), timeout);
  }

  /// Awaitable form, for a coroutine handler (a courier::task): the handler
  /// suspends without blocking its worker and resumes, in its actor's turn, with
  /// the reply or the error; see courier/bus/await.hpp. @threadsafe
  template <class R, class Q>
  request_awaitable<R> co_request(std::string_view subject, Q&& q, duration timeout);

  /// Carries subjects matching `pattern` between this bus and `b` (see bridge_binding.hpp). @threadsafe
  result<bridge_binding> bridge(std::string_view pattern, std::shared_ptr<courier::bridge> b, bridge_direction dir);
  /// As above, with options. @threadsafe
  result<bridge_binding> bridge(std::string_view pattern, std::shared_ptr<courier::bridge> b, bridge_direction dir,
                                const bridge_binding_options& opts);
  /// The codecs of the types that may cross this bus's bridges.
  [[nodiscard]] codec_registry& codecs() const noexcept;
  /// Publishes a message built elsewhere (a bridge's decoder), envelope included. @threadsafe
  errc publish_message(message_ptr msg) { return publish_erased(std::move(msg)); }
  /// Hands a request built elsewhere to one local responder; its envelope's reply
  /// channel gets the answer. errc::no_responders when none serves it. @threadsafe
  errc request_message(const message_ptr& msg);
  /// Publishes `msg` on `<dead_letter_prefix>.<its subject>` with `reason`, if anyone listens. @threadsafe
  void dead_letter(const message_ptr& msg, std::string_view reason);
  /// Calls `fn` for every message of any type published on a subject matching `pattern`,
  /// and `on_request` for requests there no local responder serves. @threadsafe
  result<subscription> tap(std::string_view pattern, tap_fn fn, request_tap_fn on_request = {});

  [[nodiscard]] bus_stats stats() const noexcept;
  /// Counters per subject and per subscription, and request latencies. @threadsafe
  [[nodiscard]] bus_metrics metrics() const;
  [[nodiscard]] system& sys() const noexcept { return sys_; }

 private:
  template <class R>
  friend class request_awaitable;

  template <class T>
  static std::string_view type_name_of() {
    if constexpr (requires { T::type_name; }) return T::type_name;
    else return {};
  }

  template <class T, class F>
  actor_ref spawn_callback(F fn);

  template <class R>
  static std::shared_ptr<detail::request_base> make_request(std::function<void(reply<R>)> done);

  /// Fills a new message's envelope: ids, subject, type, timestamp, and what
  /// it inherits from the message being handled on this thread.
  void stamp(envelope& env, std::string_view subject, std::string_view type_name, publish_options&& opts);
  /// A bus message of type V holding `value`, its envelope stamped in place: one allocation.
  template <class V, class T>
  bus_message<V>* new_bus_message(std::string_view subject, T&& value, publish_options&& opts) {
    auto* msg = new bus_message<V>(std::in_place, std::forward<T>(value));
    try {
      stamp(msg->env(), subject, type_name_of<V>(), std::move(opts));
    } catch (...) {
      (void)message_ptr::adopt(msg);  // releases it
      throw;
    }
    return msg;
  }
  result<subscription> subscribe_erased(std::string_view pattern, type_id type, const actor_ref& target,
                                        subscribe_options opts, bool responder, bool owns_target);
  errc publish_erased(message_ptr msg);
  void send_request(message_ptr msg, envelope& env, std::shared_ptr<detail::request_base> pending,
                    duration timeout);

  system& sys_;
  std::shared_ptr<detail::bus_core> core_;
};

namespace detail {

/// A request waiting for its reply; also the reply channel its message carries.
struct request_base : reply_channel, std::enable_shared_from_this<request_base> {
  std::atomic<bool> done{false};
  std::atomic<bool> late{false};
  bus_core* core = nullptr;
  timer_service* timers = nullptr;
  timer_id timer;
  subject_counters* subject = nullptr;  // the request subject's metrics
  time_point sent_at{};
  type_id expects{};  // the reply's type

  /// True for the one caller that gets to complete the request.
  bool claim() noexcept { return !done.exchange(true, std::memory_order_acq_rel); }
  void reply(message_ptr response) noexcept final;
  void fail(const char* what) noexcept final;
  void expire(errc why, const char* text = "") noexcept;
  /// Its awaiting coroutine is gone: counts it cancelled and stops its timer.
  void abandon() noexcept;

  virtual void complete_value(const message& response) noexcept = 0;
  virtual void complete_error(errc why, std::string text) noexcept = 0;
  virtual ~request_base() = default;
};

template <class R>
struct request_of final : request_base {
  request_of() noexcept { expects = type_id_of<R>(); }
  std::function<void(courier::reply<R>)> done_fn;
  /// @pre m.type() == expects (reply() checks it).
  void complete_value(const message& m) noexcept override { done_fn(courier::reply<R>{result<R>{m.as<R>()}, {}}); }
  void complete_error(errc why, std::string text) noexcept override {
    done_fn(courier::reply<R>{result<R>{why}, std::move(text)});
  }
};

/// Runs a callback subscription's function, one message at a time.
template <class T, class F>
class callback_actor final : public actor {
 public:
  using handles = courier::handles<T>;
  explicit callback_actor(F f) : f_{std::move(f)} {}
  void on(const T& v) { f_(v); }

 private:
  F f_;
};

}  // namespace detail

template <class T, class F>
actor_ref bus::spawn_callback(F fn) {
  return sys_.spawn<detail::callback_actor<T, F>>(std::move(fn));
}

template <class R>
std::shared_ptr<detail::request_base> bus::make_request(std::function<void(reply<R>)> done) {
  auto r = std::make_shared<detail::request_of<R>>();
  r->done_fn = std::move(done);
  return r;
}

}  // namespace courier

#include "courier/bus/await.hpp"  // defines bus::co_request
