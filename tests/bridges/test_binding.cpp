// Bindings on a deterministic executor with virtual time.

#include <catch2/catch.hpp>

#include <thread>

#include <courier/bus/loopback_bridge.hpp>

#include "bridges/binding_support.hpp"

using namespace courier;
using courier::test::capture_bridge;
using courier::test::order_placed;
using courier::test::order_wire;

namespace {

struct fixture {
  fixture() { REQUIRE(bus.codecs().add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok); }
  manual_executor exec{{.seed = 3}};
  virtual_clock clk;
  virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  courier::bus bus{sys};
  std::shared_ptr<capture_bridge> br = std::make_shared<capture_bridge>();
};

class thrower final : public actor {
 public:
  using handles = courier::handles<order_placed>;
  void on(const order_placed&) { throw std::runtime_error("no"); }
};

}  // namespace

TEST_CASE("an inbound message is acked after its handler ran, nak'd when it threw, termed when undecodable",
          "[bridges][binding]") {
  fixture f;
  auto binding = f.bus.bridge("orders.>", f.br, bridge_direction::in);
  REQUIRE(binding);
  int handled = 0;
  auto ok_sub = f.bus.subscribe<order_placed>("orders.ok", [&](const order_placed&) { ++handled; });
  auto bad_sub = f.bus.subscribe<order_placed>("orders.bad", f.sys.spawn<thrower>());
  courier::test::settle_log ok, bad, none, undecodable;

  REQUIRE(f.br->deliver(order_wire("orders.ok", 1), ok.fn()));
  REQUIRE(f.br->deliver(order_wire("orders.bad", 2), bad.fn()));
  REQUIRE(f.br->deliver(order_wire("orders.nobody", 3), none.fn()));
  auto broken = order_wire("orders.ok", 4);
  broken.payload = "{";
  REQUIRE(f.br->deliver(broken, undecodable.fn()));
  CHECK(ok.seen.empty());  // still in the mailbox
  CHECK(bad.seen.empty());
  CHECK(none.seen == std::vector{settle::ack});
  CHECK(undecodable.seen == std::vector{settle::term});
  f.exec.run();
  CHECK(handled == 1);
  CHECK(ok.seen == std::vector{settle::ack});
  CHECK(bad.seen == std::vector{settle::nak});
  auto st = binding.value().stats();
  CHECK(st.received == 4);
  CHECK(st.delivered == 3);
  CHECK(st.bad_message == 1);
}

TEST_CASE("an inbound subject that fails validation is dead-lettered under _invalid", "[bridges][binding]") {
  fixture f;
  auto binding = f.bus.bridge("orders.>", f.br, bridge_direction::in);
  REQUIRE(binding);
  std::vector<std::string> reasons;
  auto dl = f.bus.subscribe<bus_dead_letter>("courier.dead_letter._invalid",
                                             [&](const bus_dead_letter& d) { reasons.push_back(d.reason); });
  courier::test::settle_log log;
  REQUIRE(f.br->deliver(order_wire("orders. x", 1), log.fn()));
  REQUIRE(f.br->deliver(order_wire("orders.>", 2), log.fn()));
  f.exec.run();
  CHECK(reasons == std::vector<std::string>{"invalid_subject", "invalid_subject"});
  CHECK(log.seen == std::vector{settle::term, settle::term});
  CHECK(binding.value().stats().invalid_subject == 2);
  CHECK(f.bus.bridge("orders..>", f.br, bridge_direction::in).error() == errc::invalid_subject);
}

TEST_CASE("a type without a codec stays local and is counted", "[bridges][binding]") {
  fixture f;
  auto binding = f.bus.bridge("orders.>", f.br, bridge_direction::out);
  REQUIRE(binding);
  int local = 0;
  auto sub = f.bus.subscribe<int>("orders.count", [&](const int&) { ++local; });
  CHECK(f.bus.publish("orders.count", 5) == errc::ok);
  CHECK(f.bus.publish("orders.placed", order_placed{1, "x"}) == errc::ok);
  f.exec.run();
  CHECK(local == 1);
  CHECK(binding.value().stats().unencodable == 1);
  CHECK(binding.value().stats().sent == 1);
  REQUIRE(f.br->published().size() == 1);
  CHECK(f.br->published()[0].header(wire_header::type) == "orders.placed/v1");
}

TEST_CASE("a full outbound buffer applies its overflow policy and counts what it turned away",
          "[bridges][binding]") {
  struct expectation {
    overflow policy;
    errc fourth;
    std::vector<int> sent;
  };
  auto e = GENERATE(expectation{overflow::reject, errc::mailbox_full, {1, 2, 3}},
                    expectation{overflow::drop_newest, errc::ok, {1, 2, 3}},
                    expectation{overflow::drop_oldest, errc::ok, {1, 3, 4}},
                    expectation{overflow::dead_letter, errc::ok, {1, 2, 3}},
                    expectation{overflow::block, errc::timeout, {1, 2, 3}});
  fixture f;
  auto binding = f.bus.bridge("orders.>", f.br, bridge_direction::out,
                              {.outbound_capacity = 2, .policy = e.policy, .block_timeout = std::chrono::milliseconds{20}});
  REQUIRE(binding);
  f.br->hold();
  errc first_outcome = errc::cancelled;
  std::thread first{[&] { first_outcome = f.bus.publish("orders.placed", order_placed{1, "x"}); }};
  REQUIRE(f.br->wait_entered(1));  // the first publish is now inside the bridge, draining
  CHECK(f.bus.publish("orders.placed", order_placed{2, "x"}) == errc::ok);
  CHECK(f.bus.publish("orders.placed", order_placed{3, "x"}) == errc::ok);
  CHECK(f.bus.publish("orders.placed", order_placed{4, "x"}) == e.fourth);
  f.br->release();
  first.join();
  CHECK(first_outcome == errc::ok);
  std::vector<int> sent;
  for (const auto& w : f.br->published()) sent.push_back(nlohmann::json::parse(w.payload).at("id").get<int>());
  CHECK(sent == e.sent);
  auto st = binding.value().stats();
  CHECK(st.sent == 3);
  CHECK(st.max_depth == 2);
  CHECK(st.rejected + st.dropped + st.dead_lettered + st.timed_out == 1);
}

TEST_CASE("request-reply over the loopback broker completes and times out in virtual time", "[bridges][binding]") {
  fixture f;
  courier::bus server{f.sys};
  REQUIRE(server.codecs().add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  REQUIRE(server.codecs().add<int>("orders.ack", 1, courier::test::int_codec{}) == errc::ok);
  REQUIRE(f.bus.codecs().add<int>("orders.ack", 1, courier::test::int_codec{}) == errc::ok);
  auto broker = loopback_broker::make({.timers = &f.timers});
  auto out = f.bus.bridge("orders.>", broker->connect(), bridge_direction::out);
  auto in = server.bridge("orders.>", broker->connect(), bridge_direction::in);
  REQUIRE(out);
  REQUIRE(in);
  struct acker final : actor {
    using handles = courier::handles<order_placed>;
    int on(const order_placed& o) { return o.id + 1000; }
  };
  struct mute final : actor {
    using handles = courier::handles<order_placed>;
    void on(const order_placed&) {}
  };
  auto s1 = server.serve<order_placed>("orders.ack", f.sys.spawn<acker>());
  auto s2 = server.serve<order_placed>("orders.mute", f.sys.spawn<mute>());
  std::optional<reply<int>> answered, muted;
  f.bus.request<int>("orders.ack", order_placed{7, "x"}, std::chrono::seconds{1},
                     [&](reply<int> r) { answered = std::move(r); });
  f.bus.request<int>("orders.mute", order_placed{8, "x"}, std::chrono::seconds{1},
                     [&](reply<int> r) { muted = std::move(r); });
  f.exec.run();
  REQUIRE(answered);
  CHECK(answered->value.value() == 1007);
  CHECK_FALSE(muted);
  f.timers.advance(std::chrono::milliseconds{999});
  f.exec.run();
  CHECK_FALSE(muted);
  f.timers.advance(std::chrono::milliseconds{1});
  f.exec.run();
  REQUIRE(muted);
  CHECK(muted->error() == errc::timeout);
  CHECK(out.value().stats().requests_sent == 2);
  CHECK(in.value().stats().requests_served == 2);
}

TEST_CASE("a message passed on by a second bus inside the first one's publish is encoded intact",
          "[bridges][binding]") {
  // The loopback broker delivers on the publishing thread, so the second bus's
  // outbound binding encodes while the first one's wire message is still lent out.
  fixture f;
  courier::bus relay{f.sys};
  REQUIRE(relay.codecs().add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  auto broker = loopback_broker::make({.timers = &f.timers});
  auto out = f.bus.bridge("orders.>", broker->connect(), bridge_direction::out);
  auto in = relay.bridge("orders.>", broker->connect(), bridge_direction::in);
  auto onward = relay.bridge("orders.>", f.br, bridge_direction::out);
  REQUIRE(out);
  REQUIRE(in);
  REQUIRE(onward);
  for (int i = 0; i < 3; ++i)
    REQUIRE(f.bus.publish("orders.eu", order_placed{i, "widget-" + std::to_string(i)}) == errc::ok);
  f.exec.run();
  const auto got = f.br->published();
  REQUIRE(got.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(got[i].subject == "orders.eu");
    CHECK(got[i].payload == R"({"id":)" + std::to_string(i) + R"(,"item":"widget-)" + std::to_string(i) + R"("})");
    CHECK(got[i].header(wire_header::origin) == f.br->id().to_string());
  }
  CHECK(out.value().stats().sent == 3);
  CHECK(onward.value().stats().sent == 3);
}

TEST_CASE("after unbind nothing goes out and nothing comes in", "[bridges][binding]") {
  fixture f;
  auto binding = f.bus.bridge("orders.>", f.br, bridge_direction::both);
  REQUIRE(binding);
  binding.value().unbind();
  CHECK(f.bus.publish("orders.placed", order_placed{1, "x"}) == errc::ok);
  CHECK(f.br->published().empty());
  CHECK_FALSE(f.br->deliver(order_wire("orders.x", 1), {}));
}
