#include <courier/bridge/nats/nats_bridge.hpp>
#include <courier/bus/bridge_binding.hpp>
#include <courier/bus/codec.hpp>
#include <courier/courier.hpp>

#include "../../tests/bridges/nats_server.hpp"
#include "nats_publish/workload.hpp"

COURIER_BENCH("nats_publish", "courier") {
  namespace np = courier::bench::nats_publish;
  courier::testing::nats_server server;
  courier::system sys{{.workers = courier::bench::workers}};
  courier::bus bus{sys};
  (void)bus.codecs().add<np::payload_msg>("bench.payload", 1, np::bytes_codec{});
  auto nats = std::make_shared<courier::nats_bridge>(courier::nats_config{.url = server.url()});
  auto binding = bus.bridge(np::subject, nats, courier::bridge_direction::out,
                            {.policy = courier::overflow::block, .block_timeout = std::chrono::seconds{30}});
  if (!binding) throw std::runtime_error("nats_publish/courier: bridge refused");
  const auto count = np::messages(opts);
  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    if (bus.publish(np::subject, np::payload_msg{np::payload(i)}) != courier::errc::ok)
      throw std::runtime_error("nats_publish/courier: publish failed");
  }
  const auto deadline = courier::bench::clock_type::now() + std::chrono::minutes{2};
  while (binding.value().stats().sent < count) {
    if (courier::bench::clock_type::now() > deadline) throw std::runtime_error("nats_publish/courier: stalled");
    std::this_thread::yield();
  }
  if (nats->flush(std::chrono::seconds{60}) != courier::errc::ok)
    throw std::runtime_error("nats_publish/courier: flush failed");
  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  const auto st = binding.value().stats();
  r.extra.emplace_back("max_buffer_depth", static_cast<double>(st.max_depth));
  return r;
}
