#include "../../tests/bridges/nats_server.hpp"
#include "nats_reqrep/workload.hpp"

namespace {

void echo(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m), natsMsg_GetDataLength(m));
  natsMsg_Destroy(m);
}

}  // namespace

COURIER_BENCH("nats_reqrep", "raw") {
  namespace np = courier::bench::nats_publish;
  courier::testing::nats_server server;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  natsOptions* o = nullptr;
  np::check(natsOptions_Create(&o), "options");
  np::check(natsOptions_SetURL(o, server.url().c_str()), "url");
  np::check(natsOptions_SetSendAsap(o, true), "send asap");  // a round trip, not a batch: no flusher delay
  np::check(natsConnection_Connect(&nc, o), "connect");
  natsOptions_Destroy(o);
  np::check(natsConnection_Subscribe(&sub, nc, "bench.reqrep", echo, nullptr), "subscribe");
  np::check(natsConnection_Flush(nc), "flush");
  const std::uint64_t count = courier::bench::nats_reqrep::round_trips(opts);
  courier::bench::latency_samples lat{count};
  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto p = np::payload(i);
    natsMsg* reply = nullptr;
    const auto t0 = courier::bench::clock_type::now();
    np::check(natsConnection_Request(&reply, nc, "bench.reqrep", p.data(), static_cast<int>(p.size()), 5000),
              "request");
    lat.add(courier::bench::clock_type::now() - t0);
    natsMsg_Destroy(reply);
  }
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  lat.fill(r);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return r;
}
