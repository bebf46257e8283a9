#pragma once

// A binding carries the subjects matching one pattern between a bus and a
// bridge: bus.bridge("orders.>", nats, bridge_direction::both). Outbound,
// every registered type published locally on a matching subject is encoded
// and handed to the bridge through a bounded buffer; inbound, every broker
// message on the pattern is checked, decoded and published locally, or
// dead-lettered with a reason. docs/bridges.md describes the guarantees.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "courier/bus/bridge.hpp"
#include "courier/bus/bus.hpp"
#include "courier/bus/wire.hpp"

namespace courier {

/// Which way a binding carries messages.
enum class bridge_direction : std::uint8_t {
  out,   ///< Local publishes go to the broker.
  in,    ///< Broker messages are published locally.
  both,  ///< Both; a message never goes back to the bridge it came from.
};

struct bridge_binding_options {
  /// Inbound competing consumers: one bus of the group gets each message.
  std::string queue_group = {};
  /// A durable consumer name, for bridges that have them.
  std::string durable = {};
  /// Encoded messages waiting for the bridge at most; never 0.
  std::size_t outbound_capacity = 1024;
  /// What a publish does when the buffer is full: block (up to block_timeout, then
  /// errc::timeout), reject (errc::mailbox_full), dead_letter, drop_newest or drop_oldest.
  overflow policy = overflow::block;
  duration block_timeout = std::chrono::milliseconds{100};
  /// Caps on inbound messages, checked before decoding.
  wire_limits limits = {};
  /// Remember this many inbound message ids and drop repeats; 0 turns it off.
  std::size_t dedupe_window = 0;
  duration dedupe_max_age = std::chrono::minutes{10};
};

/// Counters of one binding. Every outbound message that matched is in exactly
/// one of sent, looped, unencodable, publish_failed, dropped, rejected,
/// timed_out and dead_lettered once the buffer is empty; every inbound one in
/// delivered, requests_served, duplicates, echoes or one of the reasons.
struct bridge_binding_stats {
  std::uint64_t sent = 0;            ///< Accepted by bridge.publish().
  std::uint64_t looped = 0;          ///< Came in through this bridge; not sent back.
  std::uint64_t unencodable = 0;     ///< No codec for the type, or the codec failed.
  std::uint64_t publish_failed = 0;  ///< bridge.publish() failed; dead-lettered as "bridge_<errc>".
  std::uint64_t dropped = 0;         ///< drop_newest / drop_oldest on a full buffer.
  std::uint64_t rejected = 0;        ///< reject on a full buffer.
  std::uint64_t timed_out = 0;       ///< block on a full buffer, past block_timeout.
  std::uint64_t dead_lettered = 0;   ///< dead_letter on a full buffer: reason "bridge_overflow".
  std::uint64_t requests_sent = 0;   ///< Local requests forwarded with bridge.request().
  std::uint64_t max_depth = 0;       ///< The outbound buffer's high-water mark.

  std::uint64_t received = 0;         ///< Inbound messages from the bridge.
  std::uint64_t delivered = 0;        ///< Published on the local bus.
  std::uint64_t requests_served = 0;  ///< Handed to a local responder (or answered no_responders).
  std::uint64_t duplicates = 0;       ///< Dropped by the dedupe window.
  std::uint64_t too_large = 0;        ///< Dead-lettered, reason "too_large".
  std::uint64_t invalid_subject = 0;  ///< Dead-lettered, reason "invalid_subject".
  std::uint64_t bad_message = 0;      ///< Dead-lettered, reason "bad_message".
  std::uint64_t unknown_type = 0;     ///< Dead-lettered, reason "unknown_type".
  std::uint64_t unknown_version = 0;  ///< Dead-lettered, reason "unknown_version".
  std::uint64_t echoes = 0;           ///< Sent by this binding's own bridge connection; dropped.
};

namespace detail {
struct binding_state;
}

/// Unbinds when destroyed (or on unbind()). Destroy it before its bus.
class bridge_binding {
 public:
  bridge_binding() = default;
  /// Owns a binding made by bus::bridge().
  explicit bridge_binding(std::shared_ptr<detail::binding_state> s) noexcept;
  bridge_binding(bridge_binding&&) noexcept;
  /// Unbinds this binding, then takes over `o`'s.
  bridge_binding& operator=(bridge_binding&& o) noexcept;
  /// Unbinds.
  ~bridge_binding();

  /// Stops both directions; messages already buffered are still handed to the bridge.
  void unbind() noexcept;
  /// The binding's counters. @threadsafe
  [[nodiscard]] bridge_binding_stats stats() const noexcept;
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::binding_state> state_;
};

}  // namespace courier
