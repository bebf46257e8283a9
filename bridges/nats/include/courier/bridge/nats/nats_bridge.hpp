// courier::nats_bridge: the bus over NATS core (at most once) or JetStream (at least once).
//
//     auto nats = std::make_shared<courier::nats_bridge>(courier::nats_config{.url = "nats://127.0.0.1:4222"});
//     auto binding = bus.bridge("orders.>", nats, courier::bridge_direction::both);
#pragma once

#include <memory>

#include "courier/bridge/nats/config.hpp"
#include "courier/bus/bridge.hpp"

namespace courier {

namespace nats_detail {
struct bridge_state;
}

/// A bridge to one NATS server or cluster, over one nats.c connection.
class nats_bridge final : public bridge {
 public:
  /// Connects; throws std::invalid_argument for a setting nats.c refuses and
  /// std::runtime_error when the server cannot be reached or JetStream set up.
  explicit nats_bridge(nats_config cfg);
  ~nats_bridge() override;

  /// Core NATS: hands the message to nats.c. JetStream (subject in the stream):
  /// waits for the stored ack, with Nats-Msg-Id set to the Courier-Id header.
  errc publish(const wire_message& msg) noexcept override;
  /// Core: a NATS (queue) subscription. JetStream: a durable push consumer, acked on settle.
  result<bridge_subscription> subscribe(std::string_view pattern, wire_sink sink,
                                        bridge_subscribe_options opts) override;
  /// Publishes with a reply inbox; completes with the reply, timeout, no_responders or disconnected.
  void request(wire_message msg, duration timeout, wire_reply_fn done) override;
  /// Waits for the server to confirm everything sent so far.
  errc flush(duration timeout) noexcept override;
  /// Fails pending requests, stops subscriptions and closes the connection. Idempotent.
  void close() noexcept override;
  /// Core: ordered, consumer groups. JetStream adds persistence, dedupe and redelivery.
  [[nodiscard]] bridge_features features() const noexcept override;
  /// The features a bridge with `cfg` reports, without connecting.
  [[nodiscard]] static bridge_features features_of(const nats_config& cfg) noexcept;

  /// Counters so far. @threadsafe
  [[nodiscard]] nats_bridge_stats stats() const noexcept;
  /// True while connected to a server. @threadsafe
  [[nodiscard]] bool connected() const noexcept;

 private:
  std::unique_ptr<nats_detail::bridge_state> state_;
};

}  // namespace courier
