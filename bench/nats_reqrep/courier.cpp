#include <courier/bridge/nats/nats_bridge.hpp>
#include <courier/bus/bridge_binding.hpp>
#include <courier/bus/codec.hpp>
#include <courier/courier.hpp>

#include "../../tests/bridges/nats_server.hpp"
#include "nats_reqrep/workload.hpp"

namespace nr = courier::bench::nats_reqrep;

COURIER_BENCH("nats_reqrep", "courier") {
  courier::testing::nats_server server;
  courier::system sys{{.workers = courier::bench::workers}};
  courier::bus client{sys}, service{sys};
  nr::register_codecs(client);
  nr::register_codecs(service);
  // send_asap on both sides, as the raw client: a round trip, not a batch.
  const courier::nats_config cfg{.url = server.url(), .send_asap = true};
  auto to_service = std::make_shared<courier::nats_bridge>(cfg);
  auto from_client = std::make_shared<courier::nats_bridge>(cfg);
  auto responder = service.serve<nr::ping>(nr::subject, sys.spawn<nr::echo>());
  auto in = service.bridge(nr::subject, from_client, courier::bridge_direction::in);
  auto out = client.bridge(nr::subject, to_service, courier::bridge_direction::out);
  if (!in || !out) throw std::runtime_error("nats_reqrep/courier: bridge refused");
  return nr::measure(client, opts);
}

COURIER_BENCH("nats_reqrep", "inproc") {
  courier::system sys{{.workers = courier::bench::workers}};
  courier::bus bus{sys};
  auto responder = bus.serve<nr::ping>(nr::subject, sys.spawn<nr::echo>());
  return nr::measure(bus, opts);
}
