#pragma once

// A bridge connects a bus to an external broker. Writing one means deriving
// from courier::bridge and mapping the broker client's messages to and from
// wire_message (subject, reply subject, headers, payload bytes):
//
// - publish() hands one message to the client; it must not block for long.
//   The message is lent: the bus encodes the next one into the same buffers,
//   so a bridge copies whatever it keeps past the call.
// - subscribe() delivers every broker message on a pattern to a wire_sink,
//   together with a settle function when the broker acknowledges deliveries.
//   The bus calls settle(ack) once its local handlers finished with the
//   message and settle(nak) when one failed, from any thread; a bridge with
//   redelivery re-sends on nak. settle(term) means never re-send (bad bytes).
// - request() sends one message with a fresh reply subject and completes
//   `done` exactly once: the reply, errc::timeout, or errc::no_responders.
// - features() tells the bus and the conformance suite what the broker
//   guarantees; report them honestly, the suite tests every one claimed.
//
// The bus does the rest (codecs, envelope headers, loop prevention, limits,
// dead letters, backpressure). tests/bridges/conformance.hpp checks a bridge.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "courier/bus/envelope.hpp"
#include "courier/bus/errc.hpp"
#include "courier/bus/wire.hpp"
#include "courier/runtime/clock.hpp"

namespace courier {

/// What a broker guarantees; the conformance suite runs the cases each one enables.
struct bridge_features {
  bool persistent = false;       ///< Messages survive a broker restart.
  bool ordered = false;          ///< One publisher's messages arrive in publish order.
  bool consumer_groups = false;  ///< Queue groups: one member per group gets each message.
  bool native_dedupe = false;    ///< The broker drops a re-published message id by itself.
  bool redelivery = false;       ///< settle(nak) makes the broker deliver the message again.
};

/// How the bus settles one inbound delivery.
enum class settle : std::uint8_t {
  ack,   ///< Every local handler finished.
  nak,   ///< A local handler failed; deliver again if the broker can.
  term,  ///< The message can never be handled (bad bytes, unknown type); do not re-send.
};

/// Called at most once per inbound message, from any thread. May be empty.
using settle_fn = std::function<void(settle)>;

/// Receives inbound messages from a bridge subscription, on the bridge's threads.
using wire_sink = std::function<void(wire_message msg, settle_fn settle)>;

/// Completes a bridge request: the reply, or errc::timeout / no_responders / disconnected.
using wire_reply_fn = std::function<void(result<wire_message> reply)>;

/// Options of one bridge subscription.
struct bridge_subscribe_options {
  std::string queue_group = {};  ///< Competing consumers; empty for fan-out.
  std::string durable = {};      ///< A durable consumer name where the broker has them.
};

/// Cancels a bridge subscription when destroyed (or on cancel()).
class bridge_subscription {
 public:
  bridge_subscription() = default;
  explicit bridge_subscription(std::function<void()> cancel) : cancel_{std::move(cancel)} {}
  bridge_subscription(bridge_subscription&& o) noexcept : cancel_{std::exchange(o.cancel_, nullptr)} {}
  bridge_subscription& operator=(bridge_subscription&& o) noexcept {
    cancel();
    cancel_ = std::exchange(o.cancel_, nullptr);
    return *this;
  }
  ~bridge_subscription() { cancel(); }

  /// Stops delivery to the sink; no call to it starts after this returns.
  void cancel() noexcept {
    if (auto f = std::exchange(cancel_, nullptr)) f();
  }
  explicit operator bool() const noexcept { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

/// TLS settings a bridge passes to its client library.
struct bridge_tls {
  bool enabled = false;
  std::string ca_file = {};      ///< PEM bundle of trusted roots; empty for the system's.
  std::string cert_file = {};    ///< Client certificate (PEM) for mutual TLS.
  std::string key_file = {};     ///< Its private key (PEM).
  std::string server_name = {};  ///< Expected name on the server certificate; empty for the host.
  bool verify_peer = true;       ///< Never turn off outside tests.
};

/// Credentials a bridge passes to its client library; set only the ones the broker uses.
struct bridge_credentials {
  std::string user = {};
  std::string password = {};
  std::string token = {};
  std::string creds_file = {};  ///< e.g. a NATS .creds file (JWT and nkey seed)
  std::string nkey_seed_file = {};
};

/// Connection security of a bridge.
struct bridge_security {
  bridge_tls tls = {};
  bridge_credentials credentials = {};
};

/// The interface every broker bridge implements. All functions are @threadsafe.
class bridge {
 public:
  bridge() : id_{uuid::v7()} {}
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;
  virtual ~bridge() = default;

  /// Sends one message; errc::ok once the client accepted it. `msg` is valid
  /// only during the call: a bridge copies what it keeps.
  virtual errc publish(const wire_message& msg) noexcept = 0;
  /// Delivers broker messages on `pattern` to `sink` until the result is destroyed.
  virtual result<bridge_subscription> subscribe(std::string_view pattern, wire_sink sink,
                                                bridge_subscribe_options opts) = 0;
  /// Sends `msg` as a request; `done` runs exactly once, on any thread.
  virtual void request(wire_message msg, duration timeout, wire_reply_fn done) = 0;
  /// Waits until everything published so far reached the broker, or `timeout` passed.
  virtual errc flush(duration timeout) noexcept = 0;
  /// Stops every subscription; later calls fail with errc::disconnected.
  virtual void close() noexcept = 0;
  /// What the broker guarantees.
  [[nodiscard]] virtual bridge_features features() const noexcept = 0;

  /// A process-unique id; the bus marks messages that came in through this bridge with it.
  [[nodiscard]] const uuid& id() const noexcept { return id_; }

 private:
  uuid id_;
};

}  // namespace courier
