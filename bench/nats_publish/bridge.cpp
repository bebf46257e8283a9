// The bridge alone: the same payloads and headers as `raw`, as wire messages
// handed straight to nats_bridge::publish. Between `raw` and `courier`, it
// shows where the cost of each layer lies.
#include <courier/bridge/nats/nats_bridge.hpp>

#include "../../tests/bridges/nats_server.hpp"
#include "nats_publish/workload.hpp"

COURIER_BENCH("nats_publish", "bridge") {
  namespace np = courier::bench::nats_publish;
  courier::testing::nats_server server;
  courier::nats_bridge nats{{.url = server.url()}};
  const auto count = np::messages(opts);
  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto p = np::payload(i);
    const auto h = np::headers::next();
    courier::wire_message m;
    m.subject = np::subject;
    m.headers = {{"Courier-Id", h.id.data()},
                 {"Courier-Type", np::headers::type},
                 {"Courier-Timestamp", h.timestamp.data()},
                 {"Courier-Attempt", np::headers::attempt}};
    m.payload.assign(p.data(), p.size());
    if (nats.publish(std::move(m)) != courier::errc::ok) throw std::runtime_error("nats_publish/bridge: publish");
  }
  if (nats.flush(std::chrono::seconds{60}) != courier::errc::ok)
    throw std::runtime_error("nats_publish/bridge: flush failed");
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  return r;
}
