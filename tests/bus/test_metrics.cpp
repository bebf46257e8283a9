#include <catch2/catch.hpp>

#include <chrono>
#include <courier/courier.hpp>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

#include "responders.hpp"
#include "runtime/prometheus_check.hpp"

using courier::test::answer;
using courier::test::ask;
using courier::test::doubler;
using courier::test::silent;

namespace {

struct tick {
  int n;
};

struct fixture : courier::test::virtual_bus {
  explicit fixture(courier::bus_config cfg = {}) : virtual_bus{11, std::move(cfg)} {}

  /// Subscribes a callback that counts ticks into `n`.
  courier::subscription counting(std::string_view pattern, int& n, courier::subscribe_options o = {}) {
    return bus.subscribe<tick>(pattern, [&n](const tick&) { ++n; }, std::move(o)).value();
  }
};

}  // namespace

TEST_CASE("metrics count published, delivered and unroutable per subject and per subscription",
          "[bus][metrics]") {
  fixture f;
  int wide = 0, narrow = 0;
  auto s1 = f.counting("orders.*", wide);
  auto s2 = f.counting("orders.eu", narrow);
  for (int i = 0; i < 3; ++i) CHECK(f.bus.publish("orders.eu", tick{i}) == courier::errc::ok);
  for (int i = 0; i < 2; ++i) CHECK(f.bus.publish("orders.us", tick{i}) == courier::errc::ok);
  CHECK(f.bus.publish("nobody.home", tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("bad..subject", tick{0}) == courier::errc::invalid_subject);
  f.exec.run();
  CHECK(wide == 5);
  CHECK(narrow == 3);

  const courier::bus_metrics m = f.bus.metrics();
  CHECK(m.published == 6);
  CHECK(m.unroutable == 1);
  REQUIRE(m.subjects.size() == 3);  // the invalid subject gets no entry
  const auto* eu = m.subject("orders.eu");
  REQUIRE(eu != nullptr);
  CHECK(eu->published == 3);
  CHECK(eu->delivered == 6);
  CHECK(eu->unroutable == 0);
  CHECK(m.subject("orders.us")->delivered == 2);
  CHECK(m.subject("nobody.home")->published == 1);
  CHECK(m.subject("nobody.home")->unroutable == 1);
  CHECK(m.subject("nobody.home")->delivered == 0);
  REQUIRE(m.subscriptions.size() == 2);
  CHECK(m.subscriptions[0].pattern == "orders.*");
  CHECK(m.subscriptions[0].delivered == 5);
  CHECK(m.subscriptions[1].pattern == "orders.eu");
  CHECK(m.subscriptions[1].delivered == 3);
  CHECK(m.subscriptions[1].dropped.total() == 0);
}

TEST_CASE("metrics count each overflow policy's drops under its own reason", "[bus][metrics]") {
  using courier::overflow;
  fixture f;
  int newest = 0, oldest = 0, reject = 0, dead = 0, block = 0, letters = 0;
  auto s1 = f.counting("p.newest", newest, {.capacity = 1, .policy = overflow::drop_newest});
  auto s2 = f.counting("p.oldest.*", oldest, {.capacity = 2, .policy = overflow::drop_oldest});
  auto s3 = f.counting("p.reject", reject, {.capacity = 1, .policy = overflow::reject});
  auto s4 = f.counting("p.dead", dead, {.capacity = 1, .policy = overflow::dead_letter});
  auto s5 = f.counting("p.block", block, {.capacity = 1, .policy = overflow::block, .block_timeout = 0ms});
  auto dl = f.bus.subscribe<courier::bus_dead_letter>("courier.dead_letter.>",
                                                      [&](const courier::bus_dead_letter&) { ++letters; });
  for (int i = 0; i < 3; ++i) CHECK(f.bus.publish("p.newest", tick{i}) == courier::errc::ok);
  // drop_oldest: the first goes to the mailbox, the second waits; the third and
  // fourth each push out the one waiting, which was published on another subject.
  for (const char* s : {"p.oldest.a", "p.oldest.b", "p.oldest.c", "p.oldest.d"})
    CHECK(f.bus.publish(s, tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("p.reject", tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("p.reject", tick{1}) == courier::errc::mailbox_full);
  CHECK(f.bus.publish("p.dead", tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("p.dead", tick{1}) == courier::errc::ok);
  CHECK(f.bus.publish("p.block", tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("p.block", tick{1}) == courier::errc::timeout);
  f.exec.run();
  CHECK(newest == 1);
  CHECK(oldest == 2);
  CHECK(letters == 1);

  const auto m = f.bus.metrics();
  CHECK(m.subject("p.newest")->dropped.newest == 2);
  CHECK(m.subject("p.newest")->delivered == 1);
  CHECK(m.subject("p.oldest.a")->dropped.oldest == 0);
  CHECK(m.subject("p.oldest.b")->dropped.oldest == 1);
  CHECK(m.subject("p.oldest.c")->dropped.oldest == 1);
  CHECK(m.subject("p.oldest.d")->delivered == 1);
  CHECK(m.subject("p.reject")->dropped.rejected == 1);
  CHECK(m.subject("p.dead")->dropped.dead_lettered == 1);
  CHECK(m.subject("p.block")->dropped.timed_out == 1);
  CHECK(m.subscription(s1.id())->dropped.newest == 2);
  CHECK(m.subscription(s2.id())->dropped.oldest == 2);
  CHECK(m.subscription(s2.id())->delivered == 2);
  CHECK(m.subscription(s3.id())->dropped.rejected == 1);
  CHECK(m.subscription(s4.id())->dropped.dead_lettered == 1);
  CHECK(m.subscription(s5.id())->dropped.timed_out == 1);
  CHECK(m.subscription(s5.id())->dropped.total() == 1);
  CHECK(m.subscription(s5.id())->depth == 0);
  CHECK(m.subscription(s5.id())->max_depth == 1);
}

TEST_CASE("metrics count duplicates per subject and per subscription", "[bus][metrics]") {
  fixture f;
  int seen = 0;
  auto sub = f.counting("d.*", seen, {.dedupe_window = 16});
  const auto id = courier::uuid::v7();
  for (const char* s : {"d.a", "d.a", "d.b"}) CHECK(f.bus.publish(s, tick{0}, {.id = id}) == courier::errc::ok);
  CHECK(f.bus.publish("d.b", tick{1}) == courier::errc::ok);
  f.exec.run();
  CHECK(seen == 2);
  const auto m = f.bus.metrics();
  CHECK(m.subject("d.a")->delivered == 1);
  CHECK(m.subject("d.a")->duplicates == 1);
  CHECK(m.subject("d.b")->delivered == 1);
  CHECK(m.subject("d.b")->duplicates == 1);
  CHECK(m.subscription(sub.id())->duplicates == 2);
  CHECK(m.subscription(sub.id())->delivered == 2);
}

TEST_CASE("metrics record request latency on the system's clock and count request failures",
          "[bus][metrics]") {
  fixture f;
  auto fast = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>()).value();
  auto mute = f.bus.serve<ask>("math.mute", f.sys.spawn<silent>()).value();
  auto ok = f.bus.request<answer>("math.double", ask{2}, 50ms);
  f.timers.advance(3ms);
  f.exec.run();
  REQUIRE(ok.get().value.has_value());
  auto threw = f.bus.request<answer>("math.double", ask{-1}, 50ms);
  f.exec.run();
  CHECK(threw.get().error() == courier::errc::handler_failed);
  auto nobody = f.bus.request<answer>("math.none", ask{1}, 50ms);
  CHECK(nobody.get().error() == courier::errc::no_responders);
  auto quiet = f.bus.request<answer>("math.mute", ask{1}, 50ms);
  f.exec.run();
  f.timers.advance(50ms);
  CHECK(quiet.get().error() == courier::errc::timeout);

  const auto m = f.bus.metrics();
  CHECK(m.requests == 4);
  CHECK(m.request_timeouts == 1);
  const auto* dbl = m.subject("math.double");
  REQUIRE(dbl != nullptr);
  CHECK(dbl->requests == 2);
  CHECK(dbl->request_failures == 1);
  CHECK(dbl->request_latency_ns.count == 1);
  CHECK(dbl->request_latency_ns.max == 3'000'000);
  CHECK(dbl->request_latency_ns.quantile(0.5) == 3'000'000);
  CHECK(m.subject("math.none")->no_responders == 1);
  CHECK(m.subject("math.mute")->request_timeouts == 1);
  CHECK(m.subject("math.mute")->request_latency_ns.count == 0);
  CHECK(m.request_latency_ns.count == 1);
  CHECK(m.request_latency_ns.sum == 3'000'000);
}

TEST_CASE("subjects past metrics_subjects share one entry with an empty subject", "[bus][metrics]") {
  fixture f{{.metrics_subjects = 2}};
  int seen = 0;
  auto sub = f.counting("m.*", seen);
  for (const char* s : {"m.a", "m.b", "m.c", "m.d", "m.a", "m.c"}) CHECK(f.bus.publish(s, tick{0}) == courier::errc::ok);
  f.exec.run();
  const auto m = f.bus.metrics();
  REQUIRE(m.subjects.size() == 3);
  CHECK(m.subjects[0].subject.empty());
  CHECK(m.subjects[0].published == 3);
  CHECK(m.subjects[0].delivered == 3);
  CHECK(m.subject("m.a")->published == 2);
  CHECK(m.subject("m.b")->published == 1);
  CHECK(m.subject("m.c") == nullptr);
}

TEST_CASE("metrics count deliveries made later through an interceptor, and a queue group's choice",
          "[bus][metrics]") {
  std::vector<courier::delivery> kept;
  fixture f{{.intercept = courier::intercept_each([&kept](const courier::delivery& d) {
    kept.push_back(d);
    return courier::errc::ok;
  })}};
  int a = 0, b = 0;
  auto s1 = f.counting("g.x", a, {.queue_group = "workers"});
  auto s2 = f.counting("g.x", b, {.queue_group = "workers"});
  for (int i = 0; i < 4; ++i) CHECK(f.bus.publish("g.x", tick{i}) == courier::errc::ok);
  CHECK(f.bus.metrics().subject("g.x")->delivered == 0);  // nothing handed over yet
  for (const auto& d : kept) CHECK(d.deliver() == courier::errc::ok);
  f.exec.run();
  CHECK(a + b == 4);
  const auto m = f.bus.metrics();
  CHECK(m.subject("g.x")->published == 4);
  CHECK(m.subject("g.x")->delivered == 4);
  CHECK(m.subscription(s1.id())->queue_group == "workers");
  CHECK(m.subscription(s1.id())->delivered == 2);
  CHECK(m.subscription(s2.id())->delivered == 2);
  const std::uint64_t gone = s2.id();
  s2.unsubscribe();
  CHECK(f.bus.metrics().subscription(gone) == nullptr);
  CHECK(f.bus.metrics().subscriptions.size() == 1);
}

TEST_CASE("bus metrics export in the Prometheus text format, beside a system's", "[bus][metrics]") {
  fixture f{{.metrics_subjects = 2}};
  int seen = 0;
  auto sub = f.counting("orders.*", seen, {.capacity = 1, .policy = courier::overflow::drop_newest, .queue_group = "billing"});
  for (int i = 0; i < 3; ++i) CHECK(f.bus.publish("orders.eu", tick{i}) == courier::errc::ok);
  f.exec.run();  // one delivered, two dropped
  CHECK(f.bus.publish("nobody.home", tick{0}) == courier::errc::ok);
  CHECK(f.bus.publish("orders.us", tick{0}) == courier::errc::ok);  // the third subject: "(other)"
  auto fast = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>()).value();
  auto ok = f.bus.request<answer>("math.double", ask{2}, 50ms);
  f.timers.advance(3ms);
  f.exec.run();
  REQUIRE(ok.get().value.has_value());

  courier::prometheus_writer w;
  courier::write_prometheus(w, f.sys.metrics().snapshot());  // one scrape for both
  courier::write_prometheus(w, f.bus.metrics());
  const auto p = courier::test::check_prometheus(w.text());
  INFO(w.text());
  CHECK(p.errors.empty());
  CHECK(p.value("courier_bus_published_total") == 5);
  CHECK(p.value("courier_bus_unroutable_total") == 1);
  CHECK(p.value("courier_bus_requests_total") == 1);
  CHECK(p.value("courier_bus_subject_published_total", {{"subject", "orders.eu"}}) == 3);
  CHECK(p.value("courier_bus_subject_delivered_total", {{"subject", "orders.eu"}}) == 1);
  CHECK(p.value("courier_bus_subject_dropped_total", {{"subject", "orders.eu"}, {"reason", "drop_newest"}}) == 2);
  CHECK(p.value("courier_bus_subject_dropped_total", {{"subject", "orders.eu"}, {"reason", "reject"}}) == 0);
  CHECK(p.value("courier_bus_subject_unroutable_total", {{"subject", "nobody.home"}}) == 1);
  CHECK(p.value("courier_bus_subject_published_total", {{"subject", "(other)"}}) == 1);  // orders.us
  CHECK(p.value("courier_bus_subject_requests_total", {{"subject", "(other)"}}) == 1);   // math.double
  CHECK(p.value("courier_bus_request_seconds_count") == 1);
  CHECK(p.value("courier_bus_request_seconds_sum") == Approx(0.003));
  const std::map<std::string, std::string> sub_labels{
      {"subscription", std::to_string(sub.id())}, {"pattern", "orders.*"}, {"queue_group", "billing"}};
  CHECK(p.value("courier_bus_subscription_delivered_total", sub_labels) == 2);  // orders.eu once, orders.us once
  auto dropped = sub_labels;
  dropped["reason"] = "drop_newest";
  CHECK(p.value("courier_bus_subscription_dropped_total", dropped) == 2);
  CHECK(p.value("courier_bus_subscription_depth_max", sub_labels) == 1);
  CHECK(p.types.at("courier_bus_subscription_depth") == "gauge");
  CHECK(p.types.at("courier_bus_subject_request_seconds") == "histogram");
  CHECK(p.types.contains("courier_actors_spawned_total"));  // the system's families, same text
}

namespace {
/// Answers a request with the wrong type.
class wrong_replier : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  ask on(const ask& a) { return a; }
};
}  // namespace

TEST_CASE("a request's failures are counted as failures: wrong reply type, full responder, bad subject",
          "[bus][metrics]") {
  fixture f;
  auto wrong = f.bus.serve<ask>("math.wrong", f.sys.spawn<wrong_replier>()).value();
  auto full = f.bus.serve<ask>("math.full", f.sys.spawn<silent>(),
                               {.capacity = 1, .policy = courier::overflow::reject})
                  .value();
  auto mistyped = f.bus.request<answer>("math.wrong", ask{1}, 50ms);
  f.timers.advance(2ms);
  f.exec.run();
  const auto got = mistyped.get();
  CHECK(got.error() == courier::errc::handler_failed);
  CHECK(got.error_text == "reply has the wrong type");

  auto first = f.bus.request<answer>("math.full", ask{1}, 50ms);    // takes the only slot
  auto refused = f.bus.request<answer>("math.full", ask{2}, 50ms);  // finds it full
  CHECK(refused.get().error() == courier::errc::mailbox_full);
  auto bad = f.bus.request<answer>("math.*", ask{3}, 50ms);
  CHECK(bad.get().error() == courier::errc::invalid_subject);
  // The first request's timeout is the only timer left: the refused one's went with it.
  CHECK(f.timers.pending() == 1);

  const auto m = f.bus.metrics();
  CHECK(m.requests == 3);  // the invalid subject was no request
  const auto* w = m.subject("math.wrong");
  REQUIRE(w != nullptr);
  CHECK(w->request_failures == 1);
  CHECK(w->request_latency_ns.count == 0);  // a failure has no reply latency
  const auto* fl = m.subject("math.full");
  REQUIRE(fl != nullptr);
  CHECK(fl->requests == 2);
  CHECK(fl->request_failures == 1);
  f.exec.run();
  f.timers.advance(50ms);
  CHECK(first.get().error() == courier::errc::timeout);
}
