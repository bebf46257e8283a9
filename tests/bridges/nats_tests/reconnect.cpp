// The NATS bridge across a server restart: bounded buffering, counted drops, resumption.
#include <catch2/catch.hpp>

#include <set>

#include "bridges/nats_support.hpp"

using namespace courier;
using courier::testing::eventually;
using courier::testing::make_wire;
using courier::testing::nats_server;
using courier::testing::wire_inbox;

namespace {

/// Publishes `n` messages numbered from `first`; returns how many were accepted.
std::size_t publish_range(nats_bridge& nats, std::size_t first, std::size_t n, std::size_t bytes) {
  std::size_t ok = 0;
  for (std::size_t i = first; i < first + n; ++i) {
    std::string payload = std::to_string(i);
    payload.resize(bytes, '.');
    if (nats.publish(make_wire("restart.data", payload)) == errc::ok) ++ok;
  }
  return ok;
}

}  // namespace

TEST_CASE("nats core: across a server restart, what fits the reconnect buffer arrives and the rest is counted") {
  nats_server server;
  auto cfg = courier::testing::core_config(server);
  cfg.reconnect_buffer_bytes = 64 * 1024;  // about 60 of the 1 KiB messages below
  nats_bridge nats{cfg};
  wire_inbox inbox;
  auto sub = nats.subscribe("restart.data", inbox.sink(), {});
  REQUIRE(publish_range(nats, 0, 100, 1024) == 100);
  REQUIRE(inbox.wait_for(100));

  server.stop();
  REQUIRE(eventually([&] { return !nats.connected(); }));
  const auto before = nats.stats();
  const std::size_t accepted = publish_range(nats, 100, 1000, 1024);  // drop_newest reports ok
  const auto during = nats.stats();
  const std::uint64_t buffered = during.published - before.published;
  const std::uint64_t dropped = during.dropped - before.dropped;
  CHECK(accepted == 1000);
  CHECK(buffered + dropped == 1000);
  CHECK(buffered > 0);
  CHECK(buffered < 100);  // bounded by the 64 KiB buffer

  server.start();
  REQUIRE(eventually([&] { return nats.connected(); }));
  REQUIRE(inbox.wait_for(100 + buffered));
  REQUIRE(publish_range(nats, 1100, 100, 1024) == 100);
  REQUIRE(inbox.wait_for(200 + buffered));
  REQUIRE(nats.flush(std::chrono::seconds{5}) == errc::ok);

  // What arrived: the first 100, then the buffered ones (the oldest of the outage,
  // in order), then everything after the restart; nothing twice.
  const auto got = inbox.messages();
  REQUIRE(got.size() == 200 + buffered);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::size_t expect = i < 100 + buffered ? i : 1100 + (i - 100 - buffered);
    REQUIRE(std::stoul(got[i].payload) == expect);
  }
  CHECK(nats.stats().reconnects >= 1);
}

TEST_CASE("nats core: under the reject policy a full reconnect buffer fails publish with mailbox_full") {
  nats_server server;
  auto cfg = courier::testing::core_config(server);
  cfg.reconnect_buffer_bytes = 16 * 1024;
  cfg.overflow = nats_overflow::reject;
  nats_bridge nats{cfg};
  server.stop();
  REQUIRE(eventually([&] { return !nats.connected(); }));
  std::size_t rejected = 0;
  for (int i = 0; i < 100; ++i) {
    std::string payload(1024, 'x');
    if (nats.publish(make_wire("restart.reject", payload)) == errc::mailbox_full) ++rejected;
  }
  CHECK(rejected > 80);
  CHECK(nats.stats().rejected == rejected);
  CHECK(nats.stats().published == 100 - rejected);
}

TEST_CASE("nats jetstream: a consumer resumes after a server restart and misses nothing that was stored") {
  nats_server server;
  const auto cfg = courier::testing::js_config(server, {"restart.js"});
  nats_bridge nats{cfg};
  wire_inbox inbox;
  auto sub = nats.subscribe("restart.js", inbox.sink(), {.durable = "resume"});
  for (int i = 0; i < 50; ++i) REQUIRE(nats.publish(make_wire("restart.js", std::to_string(i))) == errc::ok);
  REQUIRE(inbox.wait_for(50));
  server.restart();
  REQUIRE(eventually([&] { return nats.connected(); }));
  std::size_t stored = 0;
  for (int i = 50; i < 100; ++i) {
    // JetStream may need a moment after the restart; a failed publish is not stored and not retried.
    if (nats.publish(make_wire("restart.js", std::to_string(i))) == errc::ok) ++stored;
  }
  REQUIRE(stored > 0);
  REQUIRE(inbox.wait_for(50 + stored));
  std::set<std::string> seen;
  for (const auto& m : inbox.messages()) seen.insert(m.payload);
  CHECK(seen.size() == 50 + stored);
}
