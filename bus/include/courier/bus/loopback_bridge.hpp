#pragma once

// An in-memory broker that buses of one process connect to through bridges,
// so one test can have bus A publish and bus B receive:
//
//     auto broker = courier::loopback_broker::make({.timers = &sys.timers()});
//     auto a = bus_a.bridge("orders.>", broker->connect(), courier::bridge_direction::out);
//     auto b = bus_b.bridge("orders.>", broker->connect(), courier::bridge_direction::in);
//
// It has NATS-like subjects, queue groups and request-reply, delivers in
// publish order on the publishing thread, and re-delivers a message that was
// settled with nak (up to max_deliveries). It keeps nothing across a restart.

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "courier/bus/bridge.hpp"
#include "courier/runtime/timers.hpp"

namespace courier {

struct loopback_config {
  /// Runs request timeouts; required.
  timer_service* timers = nullptr;
  /// Deliveries of one message to one subscriber at most, nak'd ones included; then it is given up and counted.
  std::uint32_t max_deliveries = 5;
};

/// Counters of a loopback broker.
struct loopback_stats {
  std::uint64_t published = 0;     ///< Messages accepted, replies included.
  std::uint64_t delivered = 0;     ///< Calls to a subscriber's sink.
  std::uint64_t redelivered = 0;   ///< Of those, after a nak.
  std::uint64_t given_up = 0;      ///< Nak'd max_deliveries times.
  std::uint64_t lost = 0;          ///< Nak'd with no live subscriber left to take it again.
  std::uint64_t unrouted = 0;      ///< Published with no matching subscriber.
};

namespace detail {
struct loopback_core;
}

/// One client connection to a loopback broker.
class loopback_bridge final : public bridge {
 public:
  /// A connection of broker `core`; use loopback_broker::connect().
  loopback_bridge(std::shared_ptr<detail::loopback_core> core, std::uint64_t conn) noexcept;
  /// Closes the connection.
  ~loopback_bridge() override;

  /// Queues `msg` on the broker; errc::invalid_subject for a bad subject.
  errc publish(const wire_message& msg) noexcept override;
  /// Delivers matching messages to `sink`, one member per queue group, with a settle function.
  result<bridge_subscription> subscribe(std::string_view pattern, wire_sink sink,
                                        bridge_subscribe_options opts) override;
  /// Sends `msg` with a fresh `_INBOX.loopback.<n>` reply subject.
  void request(wire_message msg, duration timeout, wire_reply_fn done) override;
  /// errc::ok: publish() already handed everything to the broker.
  errc flush(duration timeout) noexcept override;
  /// Cancels this connection's subscriptions and fails its waiting requests with errc::disconnected.
  void close() noexcept override;
  /// Not persistent; ordered; queue groups; no native dedupe; re-delivers on nak.
  [[nodiscard]] bridge_features features() const noexcept override;

 private:
  std::shared_ptr<detail::loopback_core> core_;
  std::uint64_t conn_;
  std::atomic<bool> closed_{false};
};

/// The shared broker. Keep it alive while its bridges are in use.
class loopback_broker {
 public:
  /// Makes a broker; throws std::invalid_argument without cfg.timers.
  static std::shared_ptr<loopback_broker> make(loopback_config cfg);
  explicit loopback_broker(loopback_config cfg);

  /// A new connection to this broker. @threadsafe
  [[nodiscard]] std::shared_ptr<loopback_bridge> connect();
  /// The broker's counters. @threadsafe
  [[nodiscard]] loopback_stats stats() const noexcept;

 private:
  std::shared_ptr<detail::loopback_core> core_;
};

}  // namespace courier
