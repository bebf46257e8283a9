// The insides of a nats_bridge: the connection, its subscriptions, counters.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "courier/bridge/nats/config.hpp"
#include "origin_gate.hpp"
#include "request_table.hpp"
#include "retired_msgs.hpp"

namespace courier::nats_detail {

/// Relaxed counters: each is a tally read for reporting, ordering nothing.
struct counters {
  std::atomic<std::uint64_t> published{0}, dropped{0}, rejected{0}, duplicates{0}, received{0};
  std::atomic<std::uint64_t> acked{0}, naked{0}, terminated{0}, disconnects{0}, reconnects{0};
  std::atomic<std::uint64_t> late_replies{0};

  static void bump(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
  [[nodiscard]] nats_bridge_stats snapshot() const noexcept;
};

struct bridge_state;

/// Lets settle functions reach nats.c only while the connection is open: the bus
/// may settle a delivery long after the bridge closed (its last reference to the
/// message can outlive the bridge), and then the server's ack_wait redelivers it.
struct ack_gate {
  std::shared_mutex mutex;
  bool open = true;
};

/// One async nats.c subscription and the sink it feeds.
struct sub_state {
  bridge_state* owner = nullptr;
  wire_sink sink;
  bool jetstream = false;
  /// Held while the sink runs, so cancel() returns only after a running call ends.
  /// Recursive: a sink may cancel its own subscription.
  std::recursive_mutex gate;
  bool live = true;
  /// The nats.c subscription; settle functions share it, since acking a
  /// message reaches through its subscription, which must outlive every ack.
  std::shared_ptr<natsSubscription> sub;

  /// Stops delivery and unsubscribes; idempotent.
  void cancel() noexcept;
};

struct bridge_state {
  nats_config cfg;
  std::shared_ptr<counters> stats = std::make_shared<counters>();
  std::shared_ptr<ack_gate> acks = std::make_shared<ack_gate>();
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string inbox;  ///< This bridge's reply subject prefix.
  natsSubscription* inbox_sub = nullptr;
  request_table requests;
  retired_msgs retired;  ///< Published messages, destroyed in batches.
  origin_gate origins;   ///< Counts subscriptions; core publishes go without Courier-Origin while there are none.
  std::atomic<bool> closed{false};

  /// Subscriptions whose nats.c callbacks may still run; each leaves once nats.c
  /// reports it complete, and the destructor waits for the list to empty.
  std::mutex subs_mutex;
  std::condition_variable subs_done;
  std::vector<std::shared_ptr<sub_state>> subs;
  int inbox_open = 0;
  /// Set by nats.c's closed callback, which runs after every other connection callback.
  bool connection_closed = false;
  /// Subscriptions made so far per pattern and group; numbers derived durable names.
  std::unordered_map<std::string, int> durable_uses;

  /// Registers `s` and arranges for it to leave `subs` once nats.c is done with it.
  void track(const std::shared_ptr<sub_state>& s);
  /// Waits (bounded) until nats.c finished with every subscription and callback.
  void await_subscriptions();
};

/// nats.c's callback for a core subscription.
void on_core_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure);
/// nats.c's callback for a JetStream subscription.
void on_js_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure);

/// Creates or updates the configured stream; throws std::runtime_error.
void setup_stream(bridge_state& b);
/// True when `subject` belongs to the configured stream.
bool in_stream(const bridge_state& b, std::string_view subject) noexcept;
/// Publishes through JetStream and waits for the stored ack.
errc js_publish(bridge_state& b, natsMsg* m, std::string_view msg_id) noexcept;
/// A durable JetStream subscription on `pattern`.
result<natsSubscription*> js_subscribe(bridge_state& b, std::string_view pattern,
                                       const bridge_subscribe_options& opts, sub_state* s);

/// The bus's errc for a nats.c status.
errc to_errc(natsStatus s) noexcept;

}  // namespace courier::nats_detail
