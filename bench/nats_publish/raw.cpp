// Raw nats.c: each message is a natsMsg carrying the same Courier headers the
// bridge sends (natsMsg_Create, natsMsgHeader_Set, natsConnection_PublishMsg),
// so both put the same bytes on the wire.
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
    const auto h = np::headers::next();
    natsMsg* m = nullptr;
    np::check(natsMsg_Create(&m, np::subject, nullptr, p.data(), static_cast<int>(p.size())), "create");
    np::check(natsMsgHeader_Set(m, "Courier-Id", h.id.data()), "header");
    np::check(natsMsgHeader_Set(m, "Courier-Type", np::headers::type), "header");
    np::check(natsMsgHeader_Set(m, "Courier-Timestamp", h.timestamp.data()), "header");
    np::check(natsMsgHeader_Set(m, "Courier-Attempt", np::headers::attempt), "header");
    np::check(natsConnection_PublishMsg(nc, m), "publish");
    natsMsg_Destroy(m);
  }
  np::check(natsConnection_FlushTimeout(nc, 60'000), "flush");
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  natsConnection_Destroy(nc);
  return r;
}
