#include "../../tests/bridges/nats_server.hpp"
#include "nats_publish/workload.hpp"

COURIER_BENCH("nats_publish", "raw") {
  namespace np = courier::bench::nats_publish;
  courier::testing::nats_server server;
  natsConnection* nc = nullptr;
  np::check(natsConnection_ConnectTo(&nc, server.url().c_str()), "connect");
  const auto count = np::messages(opts);
  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto p = np::payload(i);
    np::check(natsConnection_Publish(nc, np::subject, p.data(), static_cast<int>(p.size())), "publish");
  }
  np::check(natsConnection_FlushTimeout(nc, 60'000), "flush");
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  natsConnection_Destroy(nc);
  return r;
}
