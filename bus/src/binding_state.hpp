#pragma once

// The shared state of one bridge binding; internal to courier::bus.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "courier/bus/bridge_binding.hpp"
#include "courier/bus/codec.hpp"
#include "courier/bus/dedupe.hpp"
#include "courier/bus/wire_codec.hpp"

namespace courier::detail {

/// Marks a local envelope with the bridge the message came in through, and a
/// wire message with the bridge it went out through (encode_wire never copies
/// reserved envelope headers, so the two uses do not mix).
inline constexpr std::string_view origin_header = wire_header::origin;

struct binding_counters {
  std::atomic<std::uint64_t> sent{0}, looped{0}, unencodable{0}, publish_failed{0}, dropped{0}, rejected{0},
      timed_out{0}, dead_lettered{0}, requests_sent{0}, max_depth{0}, received{0}, delivered{0},
      requests_served{0}, duplicates{0}, echoes{0}, too_large{0}, invalid_subject{0}, bad_message{0}, unknown_type{0},
      unknown_version{0};

  static void bump(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
  /// The counter of an inbound rejection reason.
  std::atomic<std::uint64_t>& of(errc reason) noexcept;
  [[nodiscard]] bridge_binding_stats snapshot() const noexcept;
};

/// An encoded message waiting for the bridge, with the local message to dead-letter if it fails.
struct outbound_item {
  wire_message wire;
  message_ptr local;
};

struct binding_state : std::enable_shared_from_this<binding_state> {
  binding_state(bus& b, std::shared_ptr<courier::bridge> br, bridge_binding_options o)
      : host{b}, bridge{std::move(br)}, opts{std::move(o)}, origin{bridge->id().to_string()} {}

  bus& host;
  std::shared_ptr<courier::bridge> bridge;
  bridge_binding_options opts;
  std::string origin;
  binding_counters counters;
  std::atomic<bool> open{true};

  subscription tap;
  bridge_subscription inbound;

  std::mutex mutex;  // guards the outbound buffer
  std::condition_variable space;
  std::deque<outbound_item> buffer;
  /// True while a thread hands messages on. Claimed without the mutex when
  /// clear, cleared only under it once the buffer is empty: a publisher that
  /// buffers under the mutex and then finds it clear drains itself.
  std::atomic<bool> draining{false};

  std::mutex dedupe_mutex;
  std::unique_ptr<window_dedupe_store> dedupe;

  [[nodiscard]] wire_time now() const noexcept { return wire_time::now(host.sys().timers().clock()); }
  [[nodiscard]] bool came_from_here(const message& m) const noexcept {
    const envelope* env = envelope_of(m);
    return env != nullptr && env->header(origin_header) == origin;
  }

  errc on_publish(const message_ptr& msg);
  void on_request(const message_ptr& msg, const std::shared_ptr<request_base>& pending);
  void on_inbound(wire_message msg, settle_fn ack);

 private:
  /// Hands `wire` to the bridge, or buffers it (taking its buffers) while another thread drains.
  errc enqueue(wire_message& wire, const message_ptr& msg);
  std::optional<errc> make_room(const message_ptr& msg, std::unique_lock<std::mutex>& lock);
  /// Publishes one message on the bridge; a failure dead-letters `msg`.
  void hand_on(const wire_message& wire, const message_ptr& msg);
  /// Sets `draining` if it was clear; true when this thread is now the one to hand messages on.
  bool claim_drain() noexcept;
  /// Hands on the buffered messages in order, then clears `draining`. @pre this thread set `draining`
  void drain();
  void reject_inbound(const wire_message& msg, errc reason, const settle_fn& ack);
  bool is_duplicate(const envelope& env);
  void serve_request(const message_ptr& msg, std::string reply_to, settle_fn ack);
};

/// The envelope of a message this thread just built and nobody else holds yet.
/// bus_message's envelope member is not const, so writing through it is defined.
inline envelope& fresh_envelope(const message_ptr& m) noexcept {
  return const_cast<envelope&>(*envelope_of(*m));
}

}  // namespace courier::detail
