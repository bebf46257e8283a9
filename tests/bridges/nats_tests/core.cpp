// The NATS bridge over core NATS, against a real nats-server on loopback.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <set>
#include <string_view>
#include <thread>

#include "bridges/nats_support.hpp"
#include "bridges/wire_support.hpp"

using namespace courier;
using courier::testing::core_config;
using courier::testing::make_wire;
using courier::testing::nats_server;
using courier::testing::plain_wire;
using courier::testing::request_sync;
using courier::testing::wire_inbox;

TEST_CASE("nats core: a subscriber gets the subject, headers in order and payload bytes unchanged") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  wire_inbox inbox;
  auto sub = nats.subscribe("core.bytes.*", inbox.sink(), {});
  REQUIRE(sub);
  const std::string payload{"a\0b\xff\r\n", 6};
  auto out = make_wire("core.bytes.one", payload, "id-1");
  out.headers.emplace_back("x-app", "first");
  out.headers.emplace_back("x-app", "second");
  REQUIRE(nats.publish(out) == errc::ok);
  REQUIRE(inbox.wait_for(1));
  const auto got = inbox.messages().at(0);
  CHECK(got.subject == "core.bytes.one");
  CHECK(got.payload == payload);
  CHECK(got.header(wire_header::id) == "id-1");
  CHECK(got.header(wire_header::type) == "test.text/v1");
  std::vector<std::string> app;
  for (const auto& [k, v] : got.headers)
    if (k == "x-app") app.push_back(v);
  CHECK(app == std::vector<std::string>{"first", "second"});
  CHECK(nats.stats().received == 1);
}

TEST_CASE("nats core: one publisher's messages arrive in publish order") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  wire_inbox inbox;
  auto sub = nats.subscribe("core.order", inbox.sink(), {});
  constexpr int count = 500;
  for (int i = 0; i < count; ++i) REQUIRE(nats.publish(make_wire("core.order", std::to_string(i))) == errc::ok);
  REQUIRE(inbox.wait_for(count));
  const auto got = inbox.messages();
  for (int i = 0; i < count; ++i) REQUIRE(got[static_cast<std::size_t>(i)].payload == std::to_string(i));
}

TEST_CASE("nats core: members of a queue group share the messages, each delivered once") {
  nats_server server;
  nats_bridge a{core_config(server)}, b{core_config(server)}, publisher{core_config(server)};
  wire_inbox in_a, in_b;
  auto sa = a.subscribe("core.work", in_a.sink(), {.queue_group = "workers"});
  auto sb = b.subscribe("core.work", in_b.sink(), {.queue_group = "workers"});
  constexpr std::size_t count = 200;
  for (std::size_t i = 0; i < count; ++i)
    REQUIRE(publisher.publish(make_wire("core.work", std::to_string(i))) == errc::ok);
  REQUIRE(courier::testing::eventually([&] { return in_a.size() + in_b.size() >= count; }));
  REQUIRE(publisher.flush(std::chrono::seconds{5}) == errc::ok);
  std::set<std::string> seen;
  for (const auto* in : {&in_a, &in_b})
    for (const auto& m : in->messages()) CHECK(seen.insert(m.payload).second);
  CHECK(seen.size() == count);
  // NATS picks a member at random: both get some with probability 1 - 2^-199.
  CHECK(in_a.size() > 0);
  CHECK(in_b.size() > 0);
}

TEST_CASE("nats core: a request gets the reply its responder publishes to the inbox") {
  nats_server server;
  nats_bridge client{core_config(server)}, service{core_config(server)};
  auto sub = service.subscribe(
      "core.echo",
      [&service](wire_message m, settle_fn) {
        (void)service.publish(plain_wire(m.reply_to, "echo:" + m.payload));
      },
      {});
  auto r = request_sync(client, make_wire("core.echo", "hi"), std::chrono::seconds{5});
  REQUIRE(r.has_value());
  CHECK(r.value().payload == "echo:hi");
}

TEST_CASE("nats core: a request nobody serves fails with no_responders, not a timeout") {
  nats_server server;
  nats_bridge client{core_config(server)};
  const auto start = std::chrono::steady_clock::now();
  CHECK(request_sync(client, make_wire("core.nobody", "hi"), std::chrono::seconds{30}).error() ==
        errc::no_responders);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{10});
}

TEST_CASE("nats core: a request whose responder stays silent times out, and its late reply is counted") {
  nats_server server;
  nats_bridge client{core_config(server)}, service{core_config(server)};
  std::promise<std::string> asked;
  auto sub = service.subscribe(
      "core.slow", [&asked](wire_message m, settle_fn) { asked.set_value(m.reply_to); }, {});
  CHECK(request_sync(client, make_wire("core.slow", "hi"), std::chrono::milliseconds{50}).error() == errc::timeout);
  auto inbox = asked.get_future();
  REQUIRE(inbox.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  REQUIRE(service.publish(plain_wire(inbox.get(), "late")) == errc::ok);
  CHECK(courier::testing::eventually([&] { return client.stats().late_replies == 1; }));
}

TEST_CASE("nats core: concurrent publishers' messages each arrive once, in each publisher's order") {
  const int publishers = GENERATE(1, 2, 4, 16);
  constexpr int per_publisher = 300;  // more than one batch of retired messages in all
  nats_server server;
  nats_bridge nats{core_config(server)};
  wire_inbox inbox;
  auto sub = nats.subscribe("core.many.*", inbox.sink(), {});
  REQUIRE(sub);
  REQUIRE(nats.flush(std::chrono::seconds{5}) == errc::ok);  // the subscription is in place
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int p = 0; p < publishers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_publisher; ++i)
        if (nats.publish(make_wire("core.many." + std::to_string(p), std::to_string(i))) != errc::ok) ++failures;
    });
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  REQUIRE(nats.flush(std::chrono::seconds{5}) == errc::ok);
  const auto total = static_cast<std::size_t>(publishers * per_publisher);
  REQUIRE(inbox.wait_for(total));
  std::vector<int> next(static_cast<std::size_t>(publishers), 0);
  for (const auto& m : inbox.messages()) {
    const auto p = static_cast<std::size_t>(std::stoi(m.subject.substr(std::string_view{"core.many."}.size())));
    REQUIRE(m.payload == std::to_string(next[p]));  // once each, in order: the next expected index
    ++next[p];
  }
  CHECK(inbox.messages().size() == total);
  CHECK(nats.stats().published == total);
}

TEST_CASE("nats core: headers that would break the NATS header block are refused") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  auto bad_value = make_wire("core.bad", "x");
  bad_value.headers.emplace_back("x-inject", "a\r\nCourier-Type: evil/v1");
  CHECK(nats.publish(bad_value) == errc::bad_message);
  auto lone_lf = make_wire("core.bad", "x");
  lone_lf.headers.emplace_back("x-inject", "a\nb");
  CHECK(nats.publish(lone_lf) == errc::bad_message);
  auto nul = make_wire("core.bad", "x");
  nul.headers.emplace_back("x-inject", std::string{"a\0b", 3});
  CHECK(nats.publish(nul) == errc::bad_message);
  auto bad_name = make_wire("core.bad", "x");
  bad_name.headers.emplace_back("x name", "v");
  CHECK(nats.publish(bad_name) == errc::bad_message);
  CHECK(nats.stats().rejected == 4);
}

TEST_CASE("nats core: the header checks refuse exactly the bytes a header line cannot carry, wherever they are") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  // Lengths around the checks' eight-byte steps, each byte at every position.
  const std::string refused_in_value{"\r\n\0", 3};
  const std::string carried_in_value{"\t\x0b\x0e :\x7f\x80\xff"};
  std::string refused_in_name{":\x7f"};
  for (int c = 0; c <= ' '; ++c) refused_in_name += static_cast<char>(c);
  const std::string carried_in_name{"!~\x80\xff"};
  auto publish_with = [&](const std::string& name, const std::string& value) {
    auto m = make_wire("core.checks", "x");
    m.headers.emplace_back(name, value);
    return nats.publish(std::move(m));
  };
  std::uint64_t refused = 0;
  for (std::size_t len = 1; len <= 20; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      std::string text(len, 'a');
      for (const char c : refused_in_value) {
        text[at] = c;
        CHECK(publish_with("x-check", text) == errc::bad_message);
        ++refused;
      }
      for (const char c : carried_in_value) {
        text[at] = c;
        CHECK(publish_with("x-check", text) == errc::ok);
      }
      for (const char c : refused_in_name) {
        text[at] = c;
        CHECK(publish_with(text, "v") == errc::bad_message);
        ++refused;
      }
      for (const char c : carried_in_name) {
        text[at] = c;
        CHECK(publish_with(text, "v") == errc::ok);
      }
    }
  }
  CHECK(publish_with("", "v") == errc::bad_message);
  CHECK(publish_with("x-empty", "") == errc::ok);
  CHECK(nats.stats().rejected == refused + 1);
}

TEST_CASE("nats core: only the encoder's own headers go unchecked, whatever a publisher supplies is checked") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  codec_registry codecs;
  REQUIRE(codecs.add<int>("core.count", 1, test::int_codec{}) == errc::ok);
  const wire_time t{time_point{std::chrono::seconds{1}}, 1'700'000'000'000'000'000};
  const std::string injection = "a\r\nCourier-Type: evil/v1";
  auto encoded = [&](auto fill) {
    envelope env;
    fill(env);
    env.id = uuid::v7();
    env.subject = "core.trust";
    wire_message w;
    REQUIRE(encode_wire(*message_ptr::adopt(new bus_message<int>(std::move(env), 7)), codecs, t, w) == errc::ok);
    return w;
  };
  // The encoder formats the id, type, timestamp and attempt itself; they travel unchecked.
  auto plain = encoded([](envelope&) {});
  CHECK(plain.encoder_headers == plain.headers.size());
  CHECK(nats.publish(plain) == errc::ok);
  // Key, traceparent and headers come from the publisher and are checked.
  CHECK(nats.publish(encoded([&](envelope& e) { e.key = injection; })) == errc::bad_message);
  CHECK(nats.publish(encoded([&](envelope& e) { e.traceparent = injection; })) == errc::bad_message);
  CHECK(nats.publish(encoded([&](envelope& e) { e.headers = {{"x-user", injection}}; })) == errc::bad_message);
  CHECK(nats.publish(encoded([](envelope& e) { e.headers = {{"x user", "v"}}; })) == errc::bad_message);
  // A publisher's header named like an encoder's one is not the encoder's: the
  // encoder drops it, so its bytes are neither sent nor trusted.
  auto spoof = encoded([&](envelope& e) {
    e.headers = {{std::string{wire_header::type}, injection}, {std::string{wire_header::timestamp}, injection}};
  });
  CHECK(spoof.header(wire_header::type) == "core.count/v1");
  for (const auto& [k, v] : spoof.headers) CHECK(v != injection);
  CHECK(nats.publish(spoof) == errc::ok);
  // Built by hand, the same names are the publisher's and are checked.
  auto by_hand = make_wire("core.trust", "x");
  by_hand.headers.emplace_back(wire_header::timestamp, injection);
  CHECK(by_hand.encoder_headers == 0);
  CHECK(nats.publish(by_hand) == errc::bad_message);
  CHECK(nats.stats().rejected == 5);
}

namespace {

wire_message with_origin(std::string subject, const nats_bridge& from) {
  auto m = make_wire(std::move(subject), "x");
  m.headers.emplace_back(std::string{wire_header::origin}, from.id().to_string());
  return m;
}

}  // namespace

TEST_CASE("nats core: Courier-Origin travels only while the publishing connection subscribes to something") {
  nats_server server;
  nats_bridge publisher{core_config(server)};
  nats_bridge observer{core_config(server)};
  wire_inbox inbox;
  auto seen = observer.subscribe("core.origin", inbox.sink(), {});
  REQUIRE(seen);
  REQUIRE(publisher.publish(with_origin("core.origin", publisher)) == errc::ok);
  wire_inbox unused;
  auto own = publisher.subscribe("core.elsewhere", unused.sink(), {});
  REQUIRE(own);
  REQUIRE(publisher.publish(with_origin("core.origin", publisher)) == errc::ok);
  own.value().cancel();
  REQUIRE(publisher.publish(with_origin("core.origin", publisher)) == errc::ok);
  REQUIRE(inbox.wait_for(3));
  const auto got = inbox.messages();
  CHECK_FALSE(got[0].has_header(wire_header::origin));
  CHECK(got[1].header(wire_header::origin) == publisher.id().to_string());
  CHECK_FALSE(got[2].has_header(wire_header::origin));
  CHECK(got[0].header(wire_header::type) == "test.text/v1");
}

TEST_CASE("nats core: a subscription made while publishing only ever gets its connection's messages with Courier-Origin") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  constexpr int rounds = 20;
  constexpr int per_round = 2000;
  for (int round = 0; round < rounds; ++round) {
    const std::string subject = "core.race." + std::to_string(round);
    std::atomic<int> failed_publishes{0};
    std::atomic<bool> subscribed{false};
    std::thread publisher{[&] {
      for (int i = 0; i < per_round; ++i) {
        if (nats.publish(with_origin(subject, nats)) != errc::ok) failed_publishes.fetch_add(1);
        if (i == per_round / 2) subscribed.wait(false);  // the rest certainly after the subscription
      }
    }};
    std::atomic<int> bare{0};
    std::atomic<int> marked{0};
    std::promise<void> last;
    auto sub = nats.subscribe(subject, [&](wire_message m, settle_fn) {
      (m.has_header(wire_header::origin) ? marked : bare).fetch_add(1);
      if (m.payload == "last") last.set_value();
    }, {});
    subscribed = true;
    subscribed.notify_one();
    publisher.join();
    REQUIRE(sub);
    auto end = with_origin(subject, nats);
    end.payload = "last";
    REQUIRE(nats.publish(std::move(end)) == errc::ok);
    REQUIRE(last.get_future().wait_for(std::chrono::seconds{30}) == std::future_status::ready);
    CHECK(failed_publishes.load() == 0);
    CHECK(bare.load() == 0);
    CHECK(marked.load() >= per_round / 2);
  }
}

TEST_CASE("nats core: a cancelled subscription delivers nothing more") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  wire_inbox inbox;
  auto sub = nats.subscribe("core.cancel", inbox.sink(), {});
  REQUIRE(sub);
  REQUIRE(nats.publish(make_wire("core.cancel", "1")) == errc::ok);
  REQUIRE(inbox.wait_for(1));
  sub.value().cancel();
  wire_inbox witness;
  auto w = nats.subscribe("core.cancel", witness.sink(), {});
  REQUIRE(nats.publish(make_wire("core.cancel", "2")) == errc::ok);
  REQUIRE(witness.wait_for(1));
  CHECK(inbox.size() == 1);
}

TEST_CASE("nats: closed bridge refuses work with errc::disconnected") {
  nats_server server;
  nats_bridge nats{core_config(server)};
  nats.close();
  CHECK(nats.publish(make_wire("core.closed", "x")) == errc::disconnected);
  CHECK(nats.subscribe("core.closed", [](wire_message, settle_fn) {}, {}).error() == errc::disconnected);
  CHECK(request_sync(nats, make_wire("core.closed", "x"), std::chrono::seconds{1}).error() == errc::disconnected);
}
