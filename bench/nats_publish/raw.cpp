// Raw nats.c: each message is a natsMsg carrying the same Courier headers the
// bridge sends (natsMsg_Create, natsMsgHeader_Set, natsConnection_PublishMsg),
// so both put the same bytes on the wire. Published messages are destroyed
// 256 at a time, as the bridge does: natsMsg_Destroy hands each one to nats.c's
// collector thread and wakes it, which one at a time costs more than the rest.
#include <array>

#include "../../tests/bridges/nats_server.hpp"
#include "nats_publish/workload.hpp"

COURIER_BENCH("nats_publish", "raw") {
  namespace np = courier::bench::nats_publish;
  courier::testing::nats_server server;
  natsConnection* nc = nullptr;
  np::check(natsConnection_ConnectTo(&nc, server.url().c_str()), "connect");
  const auto count = np::messages(opts);
  std::array<natsMsg*, 256> sent{};
  std::size_t unreleased = 0;
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
    sent[unreleased++] = m;
    if (unreleased == sent.size()) {
      for (natsMsg* done : sent) natsMsg_Destroy(done);
      unreleased = 0;
    }
  }
  for (std::size_t j = 0; j < unreleased; ++j) natsMsg_Destroy(sent[j]);
  np::check(natsConnection_FlushTimeout(nc, 60'000), "flush");
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  natsConnection_Destroy(nc);
  return r;
}
