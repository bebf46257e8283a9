#include "binding_state.hpp"

#include "courier/bus/subject.hpp"

namespace courier {
namespace detail {

std::atomic<std::uint64_t>& binding_counters::of(errc reason) noexcept {
  switch (reason) {
    case errc::too_large:
      return too_large;
    case errc::invalid_subject:
      return invalid_subject;
    case errc::unknown_type:
      return unknown_type;
    case errc::unknown_version:
      return unknown_version;
    default:
      return bad_message;
  }
}

bridge_binding_stats binding_counters::snapshot() const noexcept {
  auto n = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return bridge_binding_stats{n(sent),          n(looped),         n(unencodable),  n(publish_failed),
                              n(dropped),       n(rejected),       n(timed_out),    n(dead_lettered),
                              n(requests_sent), n(max_depth),      n(received),     n(delivered),
                              n(requests_served), n(duplicates),   n(too_large),    n(invalid_subject),
                              n(bad_message),   n(unknown_type),   n(unknown_version), n(echoes)};
}

namespace {

/// A wire message each publishing thread encodes into and keeps: its strings
/// and header vector hold their buffers from one message to the next, so an
/// encoding allocates nothing once they are large enough.
struct thread_wire {
  wire_message msg;
  bool lent = false;
};
thread_local thread_wire this_thread_wire;

/// Lends this thread's wire message, or a fresh one when it is lent already: a
/// bridge that delivers in line (loopback) can reach another binding's
/// on_publish from inside publish().
class borrowed_wire {
 public:
  borrowed_wire() noexcept : kept_{this_thread_wire.lent ? nullptr : &this_thread_wire} {
    if (kept_ != nullptr) kept_->lent = true;
  }
  borrowed_wire(const borrowed_wire&) = delete;
  borrowed_wire& operator=(const borrowed_wire&) = delete;
  ~borrowed_wire() {
    if (kept_ == nullptr) return;
    // One large payload should not stay with the thread for good.
    if (kept_->msg.payload.capacity() > kept_payload_bytes) std::string{}.swap(kept_->msg.payload);
    kept_->lent = false;
  }

  wire_message& get() noexcept { return kept_ != nullptr ? kept_->msg : own_; }

 private:
  static constexpr std::size_t kept_payload_bytes = 64 * 1024;
  thread_wire* kept_;
  wire_message own_;
};

}  // namespace

errc binding_state::on_publish(const message_ptr& msg) {
  if (came_from_here(*msg)) {
    counters.bump(counters.looped);
    return errc::ok;
  }
  borrowed_wire borrowed;
  wire_message& wire = borrowed.get();
  if (encode_wire(*msg, host.codecs(), now(), wire, origin) != errc::ok) {
    counters.bump(counters.unencodable);
    return errc::ok;
  }
  return enqueue(wire, msg);
}

std::optional<errc> binding_state::make_room(const message_ptr& msg, std::unique_lock<std::mutex>& lock) {
  switch (opts.policy) {
    case overflow::drop_newest:
      counters.bump(counters.dropped);
      return errc::ok;
    case overflow::drop_oldest:
      buffer.pop_front();
      counters.bump(counters.dropped);
      return std::nullopt;
    case overflow::reject:
      counters.bump(counters.rejected);
      return errc::mailbox_full;
    case overflow::dead_letter:
      lock.unlock();
      counters.bump(counters.dead_lettered);
      host.dead_letter(msg, "bridge_overflow");
      return errc::ok;
    case overflow::block:
      break;
  }
  if (space.wait_for(lock, opts.block_timeout, [&] { return buffer.size() < opts.outbound_capacity; }))
    return std::nullopt;
  counters.bump(counters.timed_out);
  return errc::timeout;
}

bool binding_state::claim_drain() noexcept {
  bool idle = false;
  // Acquire: pairs with drain()'s release, so the previous drainer's
  // hand-ons happen before this thread's, and one publisher's stay in order.
  return draining.compare_exchange_strong(idle, true, std::memory_order_acquire, std::memory_order_relaxed);
}

errc binding_state::enqueue(wire_message& wire, const message_ptr& msg) {
  if (claim_drain()) {
    // Nobody was handing messages on, so none wait (the buffer fills only
    // while someone drains): this one goes straight to the bridge, unbuffered
    // and without the mutex.
    hand_on(wire, msg);
    drain();
    return errc::ok;
  }
  std::unique_lock lock{mutex};
  if (buffer.size() >= opts.outbound_capacity)
    if (auto outcome = make_room(msg, lock)) return *outcome;
  buffer.push_back({std::move(wire), msg});
  auto depth = static_cast<std::uint64_t>(buffer.size());
  if (depth > counters.max_depth.load(std::memory_order_relaxed))
    counters.max_depth.store(depth, std::memory_order_relaxed);  // under the buffer's mutex: no lost update
  // Claimed under the mutex, after the push: a drainer that cleared the flag
  // found the buffer empty before this push, so someone must drain it.
  if (!claim_drain()) return errc::ok;  // the draining thread will hand it on, in order
  lock.unlock();
  drain();
  return errc::ok;
}

void binding_state::hand_on(const wire_message& wire, const message_ptr& msg) {
  const errc e = bridge->publish(wire);
  if (e == errc::ok) {
    counters.bump(counters.sent);
  } else {
    counters.bump(counters.publish_failed);
    host.dead_letter(msg, std::string{"bridge_"} + to_string(e));
  }
}

void binding_state::drain() {
  std::unique_lock lock{mutex};
  while (!buffer.empty()) {
    outbound_item item = std::move(buffer.front());
    buffer.pop_front();
    lock.unlock();
    space.notify_one();
    hand_on(item.wire, item.local);
    lock.lock();
  }
  draining.store(false, std::memory_order_release);
}

}  // namespace detail

bridge_binding::bridge_binding(std::shared_ptr<detail::binding_state> s) noexcept : state_{std::move(s)} {}
bridge_binding::bridge_binding(bridge_binding&&) noexcept = default;
bridge_binding& bridge_binding::operator=(bridge_binding&& o) noexcept {
  unbind();
  state_ = std::move(o.state_);
  return *this;
}
bridge_binding::~bridge_binding() { unbind(); }

void bridge_binding::unbind() noexcept {
  if (!state_) return;
  state_->inbound.cancel();  // first: a delivery the cancel waits for still reaches the bus
  state_->open.store(false, std::memory_order_release);
  state_->tap.unsubscribe();
  state_.reset();
}

bridge_binding_stats bridge_binding::stats() const noexcept {
  return state_ ? state_->counters.snapshot() : bridge_binding_stats{};
}

result<bridge_binding> bus::bridge(std::string_view pattern, std::shared_ptr<courier::bridge> b,
                                   bridge_direction dir) {
  return bridge(pattern, std::move(b), dir, bridge_binding_options{});
}

result<bridge_binding> bus::bridge(std::string_view pattern, std::shared_ptr<courier::bridge> b,
                                   bridge_direction dir, const bridge_binding_options& opts) {
  if (validate_pattern(pattern) != errc::ok) return errc::invalid_subject;
  if (!b) return errc::disconnected;
  auto s = std::make_shared<detail::binding_state>(*this, std::move(b), opts);
  if (s->opts.outbound_capacity == 0) s->opts.outbound_capacity = 1;
  if (opts.dedupe_window > 0)
    s->dedupe = std::make_unique<window_dedupe_store>(opts.dedupe_window, opts.dedupe_max_age);
  std::weak_ptr<detail::binding_state> weak = s;
  if (dir != bridge_direction::in) {
    auto on_publish = [weak](const message_ptr& m) {
      auto st = weak.lock();
      return st ? st->on_publish(m) : errc::ok;
    };
    auto on_request = [weak](const message_ptr& m, const std::shared_ptr<detail::request_base>& p) {
      if (auto st = weak.lock()) st->on_request(m, p);
      else p->expire(errc::no_responders);
    };
    auto t = tap(pattern, std::move(on_publish), std::move(on_request));
    if (!t) return t.error();
    s->tap = std::move(t).value();
  }
  if (dir != bridge_direction::out) {
    auto sink = [weak](wire_message m, settle_fn ack) {
      if (auto st = weak.lock(); st && st->open.load(std::memory_order_acquire))
        st->on_inbound(std::move(m), std::move(ack));
      else if (ack)
        ack(settle::nak);  // unbound: let another consumer have it
    };
    auto sub = s->bridge->subscribe(pattern, std::move(sink), {.queue_group = opts.queue_group, .durable = opts.durable});
    if (!sub) return sub.error();
    s->inbound = std::move(sub).value();
  }
  return bridge_binding{std::move(s)};
}

}  // namespace courier
