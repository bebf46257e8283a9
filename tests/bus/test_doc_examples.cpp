// The examples of docs/bus.md, compiled and checked: each block between
// `doc:` comments is the snippet the page shows.
#include <catch2/catch.hpp>

#include <chrono>
#include <courier/courier.hpp>
#include <string>
#include <vector>

#include "responders.hpp"

using namespace std::chrono_literals;

namespace {

struct order_placed {
  int id;
};
struct get_stock {
  int sku;
};
struct stock {
  int qty;
};

class inventory : public courier::actor {
 public:
  using handles = courier::handles<get_stock>;
  stock on(const get_stock& q) {
    if (q.sku < 0) throw std::invalid_argument("no such sku");
    return {q.sku * 10};
  }
};

struct place_order {
  int id;
  int sku;
};
struct receipt {
  int order;
  int qty;
};

// doc: coroutine
class checkout : public courier::actor {
 public:
  using handles = courier::handles<place_order>;
  explicit checkout(courier::bus* b) : bus_{*b} {}
  courier::task<receipt> on(const place_order& o) {
    courier::reply<stock> s = co_await bus_.co_request<stock>("inventory.stock", get_stock{o.sku}, 50ms);
    if (!s) throw std::runtime_error(courier::to_string(s.error()));  // the requester sees handler_failed
    co_return receipt{o.id, s->qty};
  }
 private:
  courier::bus& bus_;
};
// doc: end

class recorder : public courier::actor {
 public:
  using handles = courier::handles<order_placed>;
  explicit recorder(std::vector<int>& seen) : seen_{seen} {}
  void on(const order_placed& o) { seen_.push_back(o.id); }

 private:
  std::vector<int>& seen_;
};

struct fixture : courier::test::virtual_bus {
  fixture() : virtual_bus{5} {}
  std::vector<int> seen;
  courier::actor_ref payments = sys.spawn<recorder>(seen);
};

}  // namespace

TEST_CASE("docs: subjects", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& payments = f.payments;
  // doc: subjects
  auto sub = bus.subscribe<order_placed>("orders.*.placed", payments);
  auto a = bus.publish("orders.eu.placed", order_placed{1});  // ok: delivered
  auto b = bus.publish("orders.eu", order_placed{2});         // ok, but unroutable: counted
  auto c = bus.publish("orders..placed", order_placed{3});    // errc::invalid_subject
  // doc: end
  f.exec.run();
  CHECK(a == courier::errc::ok);
  CHECK(b == courier::errc::ok);
  CHECK(c == courier::errc::invalid_subject);
  CHECK(f.seen == std::vector<int>{1});
  CHECK(bus.stats().unroutable == 1);
}

TEST_CASE("docs: ordering", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  std::vector<int> log;
  // doc: ordering
  auto sub = bus.subscribe<order_placed>("orders.>", [&log](const order_placed& o) { log.push_back(o.id); });
  for (int i = 0; i < 3; ++i) (void)bus.publish("orders.eu.placed", order_placed{i});
  // one publishing thread: the subscriber sees 0, 1, 2 in that order
  // doc: end
  f.exec.run();
  CHECK(log == std::vector<int>{0, 1, 2});
}

TEST_CASE("docs: overflow policies", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& payments = f.payments;
  using courier::overflow;
  // doc: overflow
  auto s = bus.subscribe<order_placed>("orders.>", payments, {.capacity = 1, .policy = overflow::reject});
  auto first = bus.publish("orders.eu.placed", order_placed{1});   // errc::ok
  auto second = bus.publish("orders.eu.placed", order_placed{2});  // errc::mailbox_full
  // The others: overflow::block (with .block_timeout), drop_newest, drop_oldest, dead_letter.
  // doc: end
  f.exec.run();
  CHECK(first == courier::errc::ok);
  CHECK(second == courier::errc::mailbox_full);
  CHECK(s.value().stats().rejected == 1);
  CHECK(f.seen == std::vector<int>{1});
}

TEST_CASE("docs: dedupe", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& payments = f.payments;
  // doc: dedupe
  auto s = bus.subscribe<order_placed>("orders.>", payments, {.dedupe_window = 100'000, .dedupe_max_age = 10min});
  const courier::uuid id = courier::uuid::v7();
  (void)bus.publish("orders.eu.placed", order_placed{1}, {.id = id});
  (void)bus.publish("orders.eu.placed", order_placed{1}, {.id = id});  // not delivered: a duplicate
  // doc: end
  f.exec.run();
  CHECK(f.seen == std::vector<int>{1});
  CHECK(s.value().stats().duplicates == 1);
}

// A thread_pool system here: future::get() blocks this thread while a worker replies.
TEST_CASE("docs: request with a future", "[bus][docs]") {
  courier::system sys;
  courier::bus bus{sys};
  int qty = 0;
  std::string error;
  // doc: request future
  auto srv = bus.serve<get_stock>("inventory.stock", sys.spawn<inventory>());
  courier::reply<stock> r = bus.request<stock>("inventory.stock", get_stock{1}, 1s).get();  // blocks this thread
  if (r) qty = r->qty; else error = std::string{courier::to_string(r.error())} + r.error_text;
  // doc: end
  CHECK(qty == 10);
  CHECK(error.empty());
}

TEST_CASE("docs: request-reply errors", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& sys = f.sys;
  std::vector<std::string> outcomes;
  // doc: request
  auto srv = bus.serve<get_stock>("inventory.stock", sys.spawn<inventory>());
  auto report = [&outcomes](courier::reply<stock> r) {
    outcomes.push_back(r ? std::to_string(r->qty) : std::string{courier::to_string(r.error())} + r.error_text);
  };
  bus.request<stock>("inventory.stock", get_stock{4}, 50ms, report);    // "40"
  bus.request<stock>("inventory.stock", get_stock{-1}, 50ms, report);   // "handler_failedno such sku"
  bus.request<stock>("inventory.prices", get_stock{4}, 50ms, report);   // "no_responders", at once
  // doc: end
  f.exec.run();
  CHECK(outcomes == std::vector<std::string>{"no_responders", "40", "handler_failedno such sku"});
}

TEST_CASE("docs: dead letters", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& payments = f.payments;
  std::vector<std::string> reasons;
  // doc: dead letters
  auto dl = bus.subscribe<courier::bus_dead_letter>(
      "courier.dead_letter.>", [&reasons](const courier::bus_dead_letter& d) { reasons.push_back(d.subject + ": " + d.reason); });
  auto s = bus.subscribe<order_placed>("orders.>", payments, {.capacity = 1, .policy = courier::overflow::dead_letter});
  (void)bus.publish("orders.eu.placed", order_placed{1});
  (void)bus.publish("orders.eu.placed", order_placed{2});  // dead letter "orders.eu.placed: overflow"
  // doc: end
  f.exec.run();
  CHECK(reasons == std::vector<std::string>{"orders.eu.placed: overflow"});
}

TEST_CASE("docs: metrics", "[bus][docs]") {
  fixture f;
  auto& bus = f.bus;
  auto& payments = f.payments;
  std::uint64_t published = 0, delivered = 0, dropped = 0, p99_ns = 1;
  auto s = bus.subscribe<order_placed>("orders.>", payments, {.capacity = 1, .policy = courier::overflow::drop_newest});
  for (int i = 0; i < 3; ++i) (void)bus.publish("orders.eu.placed", order_placed{i});
  // doc: metrics
  const courier::bus_metrics m = bus.metrics();
  if (const courier::subject_metrics* eu = m.subject("orders.eu.placed")) {
    published = eu->published;       // 3
    delivered = eu->delivered;       // 1
    dropped = eu->dropped.newest;    // 2, by overflow::drop_newest
  }
  p99_ns = m.request_latency_ns.quantile(0.99);  // 0: no requests yet
  // doc: end
  f.exec.run();
  CHECK(published == 3);
  CHECK(delivered == 1);
  CHECK(dropped == 2);
  CHECK(p99_ns == 0);
  CHECK(m.subscription(s.value().id())->dropped.newest == 2);
}

TEST_CASE("docs: metrics in the Prometheus format", "[bus][docs]") {
  fixture f;
  auto& sys = f.sys;
  auto& bus = f.bus;
  auto s = bus.subscribe<order_placed>("orders.>", f.payments);
  (void)bus.publish("orders.eu.placed", order_placed{1});
  f.exec.run();
  // doc: prometheus
  courier::prometheus_writer w;
  courier::write_prometheus(w, sys.metrics().snapshot());  // courier_actor_*, courier_timers_*, ...
  courier::write_prometheus(w, bus.metrics());             // courier_bus_*
  std::string body = std::move(w).take();                 // serve it on /metrics
  // doc: end
  CHECK(body.find("courier_actors_spawned_total") != std::string::npos);
  CHECK(body.find("courier_bus_subject_published_total{subject=\"orders.eu.placed\"} 1\n") != std::string::npos);
}

TEST_CASE("docs: delivery interceptor", "[bus][docs]") {
  courier::manual_executor exec{{.seed = 5}};
  courier::virtual_clock clk;
  courier::virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  // doc: interceptor
  std::vector<courier::delivery> later;
  courier::bus bus{sys, {.intercept = courier::intercept_each([&](const courier::delivery& d) {
                           if (d.pattern() == "audit.>") return d.deliver();
                           later.push_back(d);  // deliver it when the test says so
                           return courier::errc::ok;
                         })}};
  // doc: end
  std::vector<int> audited, placed;
  auto audit = bus.subscribe<order_placed>("audit.>", sys.spawn<recorder>(audited)).value();
  auto orders = bus.subscribe<order_placed>("orders.>", sys.spawn<recorder>(placed)).value();
  CHECK(bus.publish("audit.orders", order_placed{1}) == courier::errc::ok);
  CHECK(bus.publish("orders.eu.placed", order_placed{2}) == courier::errc::ok);
  exec.run();
  CHECK(audited == std::vector<int>{1});
  CHECK(placed.empty());
  REQUIRE(later.size() == 1);
  CHECK(later[0].deliver() == courier::errc::ok);
  exec.run();
  CHECK(placed == std::vector<int>{2});
}

TEST_CASE("docs: a coroutine handler awaits a request and replies", "[bus][docs]") {
  fixture f;
  auto inv = f.bus.serve<get_stock>("inventory.stock", f.sys.spawn<inventory>());
  auto shop = f.bus.serve<place_order>("checkout", f.sys.spawn<checkout>(&f.bus));
  auto fine = f.bus.request<receipt>("checkout", place_order{7, 4}, 50ms);
  auto bad = f.bus.request<receipt>("checkout", place_order{8, -1}, 50ms);
  f.exec.run();
  const courier::reply<receipt> r = fine.get();
  REQUIRE(r);
  CHECK(r->order == 7);
  CHECK(r->qty == 40);
  const courier::reply<receipt> failed = bad.get();
  CHECK(failed.error() == courier::errc::handler_failed);
  CHECK(failed.error_text == "handler_failed");  // the text checkout threw: its own request's error
}
