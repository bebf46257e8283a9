// The NATS bridge over JetStream: dedupe, acks after the handler, redelivery, durability.
#include <catch2/catch.hpp>

#include <set>

#include "bridges/nats_support.hpp"

using namespace courier;
using courier::testing::js_config;
using courier::testing::make_wire;
using courier::testing::nats_server;
using courier::testing::wire_inbox;

TEST_CASE("nats jetstream: a message re-published with the same Courier-Id is stored once") {
  nats_server server;
  nats_bridge nats{js_config(server, {"js.dedupe.>"})};
  wire_inbox inbox;
  auto sub = nats.subscribe("js.dedupe.>", inbox.sink(), {});
  REQUIRE(sub);
  REQUIRE(nats.publish(make_wire("js.dedupe.a", "first", "same-id")) == errc::ok);
  REQUIRE(nats.publish(make_wire("js.dedupe.a", "again", "same-id")) == errc::ok);
  REQUIRE(nats.publish(make_wire("js.dedupe.a", "other", "other-id")) == errc::ok);
  REQUIRE(inbox.wait_for(2));
  CHECK(nats.stats().duplicates == 1);
  CHECK(nats.stats().published == 2);
  // A third delivery would be the duplicate; the witness below arrives after it would have.
  REQUIRE(nats.publish(make_wire("js.dedupe.a", "witness", "witness-id")) == errc::ok);
  REQUIRE(inbox.wait_for(3));
  const auto got = inbox.messages();
  REQUIRE(got.size() == 3);
  CHECK(got[0].payload == "first");
  CHECK(got[1].payload == "other");
  CHECK(got[2].payload == "witness");
}

TEST_CASE("nats jetstream: a nak'ed delivery comes again with the next attempt number") {
  nats_server server;
  nats_bridge nats{js_config(server, {"js.nak"})};
  wire_inbox inbox;
  inbox.policy = [](const wire_message& m) {
    return std::optional<settle>{m.header(wire_header::attempt) == "1" ? settle::nak : settle::ack};
  };
  auto sub = nats.subscribe("js.nak", inbox.sink(), {});
  REQUIRE(nats.publish(make_wire("js.nak", "payload")) == errc::ok);
  REQUIRE(inbox.wait_for(2));
  const auto got = inbox.messages();
  CHECK(got[0].header(wire_header::attempt) == "1");
  CHECK(got[1].header(wire_header::attempt) == "2");
  CHECK(got[1].payload == "payload");
  CHECK(courier::testing::eventually([&] { return nats.stats().acked == 1 && nats.stats().naked == 1; }));
}

TEST_CASE("nats jetstream: a delivery never settled is redelivered after ack_wait") {
  nats_server server;
  auto cfg = js_config(server, {"js.ackwait"});
  cfg.jetstream.ack_wait = std::chrono::milliseconds{300};
  nats_bridge nats{cfg};
  wire_inbox inbox;
  inbox.policy = [](const wire_message& m) {
    return m.header(wire_header::attempt) == "1" ? std::nullopt : std::optional<settle>{settle::ack};
  };
  auto sub = nats.subscribe("js.ackwait", inbox.sink(), {});
  REQUIRE(nats.publish(make_wire("js.ackwait", "x")) == errc::ok);
  REQUIRE(inbox.wait_for(2));
  CHECK(inbox.messages()[1].header(wire_header::attempt) == "2");
  CHECK(courier::testing::eventually([&] { return nats.stats().acked == 1; }));
}

TEST_CASE("nats jetstream: a terminated delivery is not sent again") {
  nats_server server;
  nats_bridge nats{js_config(server, {"js.term"})};
  wire_inbox inbox;
  inbox.policy = [](const wire_message& m) {
    return std::optional<settle>{m.payload == "poison" ? settle::term : settle::ack};
  };
  auto sub = nats.subscribe("js.term", inbox.sink(), {});
  REQUIRE(nats.publish(make_wire("js.term", "poison")) == errc::ok);
  REQUIRE(nats.publish(make_wire("js.term", "fine")) == errc::ok);
  REQUIRE(inbox.wait_for(2));
  REQUIRE(nats.publish(make_wire("js.term", "witness")) == errc::ok);
  REQUIRE(inbox.wait_for(3));
  const auto got = inbox.messages();
  REQUIRE(got.size() == 3);
  CHECK(got[2].payload == "witness");
  CHECK(nats.stats().terminated == 1);
}

TEST_CASE("nats jetstream: the durable consumer keeps what arrived while its subscriber was away") {
  nats_server server;
  const auto cfg = js_config(server, {"js.durable.>"});
  {
    nats_bridge first{cfg};
    wire_inbox inbox;
    auto sub = first.subscribe("js.durable.>", inbox.sink(), {.durable = "billing"});
    REQUIRE(first.publish(make_wire("js.durable.a", "before")) == errc::ok);
    REQUIRE(inbox.wait_for(1));
    REQUIRE(courier::testing::eventually([&] { return first.stats().acked == 1; }));
    REQUIRE(first.flush(std::chrono::seconds{5}) == errc::ok);
  }
  {
    nats_bridge publisher{cfg};
    for (int i = 0; i < 5; ++i) REQUIRE(publisher.publish(make_wire("js.durable.a", std::to_string(i))) == errc::ok);
  }
  server.restart();
  nats_bridge second{cfg};
  wire_inbox inbox;
  auto sub = second.subscribe("js.durable.>", inbox.sink(), {.durable = "billing"});
  REQUIRE(inbox.wait_for(5));
  const auto got = inbox.messages();
  for (int i = 0; i < 5; ++i) CHECK(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
}

TEST_CASE("nats jetstream: queue group members share a durable consumer") {
  nats_server server;
  const auto cfg = js_config(server, {"js.group"});
  nats_bridge a{cfg}, b{cfg};
  wire_inbox in_a, in_b;
  auto sa = a.subscribe("js.group", in_a.sink(), {.queue_group = "workers"});
  auto sb = b.subscribe("js.group", in_b.sink(), {.queue_group = "workers"});
  REQUIRE(sa);
  REQUIRE(sb);
  constexpr std::size_t count = 100;
  for (std::size_t i = 0; i < count; ++i) REQUIRE(a.publish(make_wire("js.group", std::to_string(i))) == errc::ok);
  REQUIRE(courier::testing::eventually([&] { return in_a.size() + in_b.size() >= count; }));
  std::set<std::string> seen;
  for (const auto* in : {&in_a, &in_b})
    for (const auto& m : in->messages()) CHECK(seen.insert(m.payload).second);
  CHECK(seen.size() == count);
}

TEST_CASE("nats jetstream: replies and subjects outside the stream go over core NATS") {
  nats_server server;
  nats_bridge nats{js_config(server, {"js.stored"})};
  wire_inbox inbox;
  auto sub = nats.subscribe("plain.subject", inbox.sink(), {});
  REQUIRE(nats.publish(make_wire("plain.subject", "core")) == errc::ok);
  REQUIRE(inbox.wait_for(1));
  CHECK(nats.stats().acked == 0);
  CHECK(nats.features().redelivery);
}

TEST_CASE("nats jetstream: a config without stream subjects is refused") {
  nats_server server;
  nats_config cfg = courier::testing::core_config(server);
  cfg.jetstream.enabled = true;
  CHECK_THROWS_AS(nats_bridge{cfg}, std::invalid_argument);
}
