// The shared conformance suite against a real nats-server: core NATS, and JetStream.
#include "bridges/conformance.hpp"

#include <atomic>
#include <mutex>

#include "bridges/nats_support.hpp"

namespace {

/// One nats-server per case, started when the case connects its first bus.
struct world {
  std::mutex mutex;
  std::unique_ptr<courier::testing::nats_server> server;
  std::atomic<int> bridges{0};

  std::string url() {
    std::lock_guard lock{mutex};
    if (!server) server = std::make_unique<courier::testing::nats_server>();
    return server->url();
  }
};

/// Case tokens whose subjects JetStream stores; request-reply stays on core NATS,
/// as it must (a stream would answer a request with its publish ack).
const std::vector<std::string> stored = {"pubsub", "concurrent", "isolation", "loop", "resend", "close",
                                         "restart", "order",  "groups",     "dedupe", "badbytes"};

courier::nats_config config(world& w, bool jetstream) {
  // Each bus is its own service: its own connection name, so its own durable consumers.
  courier::nats_config c{.url = w.url(), .name = "conformance-" + std::to_string(++w.bridges),
                         .reconnect_wait = std::chrono::milliseconds{20}};
  if (!jetstream) return c;
  c.jetstream.enabled = true;
  for (const auto& token : stored) c.jetstream.subjects.push_back("conformance." + token + ".>");
  c.jetstream.ack_wait = std::chrono::seconds{2};  // unacked deliveries come back well within a case
  return c;
}

courier::conformance::target nats_target(bool jetstream) {
  auto w = std::make_shared<world>();
  courier::nats_config probe;
  probe.jetstream.enabled = jetstream;
  courier::conformance::target t{
      .name = jetstream ? "nats jetstream" : "nats core",
      .connect = [w, jetstream](courier::system&) -> std::shared_ptr<courier::bridge> {
        return std::make_shared<courier::nats_bridge>(config(*w, jetstream));
      },
      .features = courier::nats_bridge::features_of(probe)};
  if (jetstream)
    t.restart_broker = [w] {
      std::lock_guard lock{w->mutex};
      w->server->restart();
    };
  return t;
}

courier::conformance::target core_target() { return nats_target(false); }
courier::conformance::target jetstream_target() { return nats_target(true); }

}  // namespace

COURIER_BRIDGE_CONFORMANCE(core_target)

namespace jetstream_suite {
COURIER_BRIDGE_CONFORMANCE(jetstream_target)
}
