#pragma once

// The cases of the conformance suite; see conformance.hpp.

#include <deque>
#include <set>
#include <thread>

namespace courier::conformance {

using dir = bridge_direction;

/// Publishes note{n, text} for n in [from, to) on `subject`.
inline void publish_range(node& a, const std::string& subject, int from, int to, publish_options o = {}) {
  for (int n = from; n < to; ++n) REQUIRE(a.bus.publish(subject, note{n, "m" + std::to_string(n)}, o) == errc::ok);
}

/// True when `counts` holds every n in [0, total) at least once.
inline bool covers(const std::map<int, int>& counts, int total) {
  for (int n = 0; n < total; ++n)
    if (!counts.contains(n)) return false;
  return true;
}

/// Bus `a` publishes on `<root>.>` through the broker to bus `b`.
struct a_to_b {
  a_to_b(const target& t, const std::string& case_token, const bridge_binding_options& in = {})
      : a{t}, b{t}, root{fresh_root(t, case_token)} {
    a.bind(root + ".>", dir::out);
    inbound = &b.bind(root + ".>", dir::in, in);
  }
  node a, b;
  std::string root;
  bridge_binding* inbound = nullptr;
};

inline void publish_then_subscribe(const target& t) {
  a_to_b p{t, "pubsub"};
  auto& [a, b, root, inbound] = p;
  auto rec = b.record(root + ".>");
  const uuid id = uuid::v7();
  REQUIRE(a.bus.publish(root + ".first", note{-1, "hello"},
                        {.key = "k1", .id = id, .headers = {{"tenant", "acme"}}}) == errc::ok);
  publish_range(a, root + ".more", 0, 50);
  REQUIRE(eventually(t, [&] { return rec->size() >= 51; }));
  auto items = rec->items();
  CHECK(items.size() == 51);
  const seen& first = items.front();
  CHECK(first.value.n == -1);
  CHECK(first.value.text == "hello");
  CHECK(first.env.id == id);
  CHECK(first.env.subject == root + ".first");
  CHECK(first.env.key == "k1");
  CHECK(first.env.header("tenant") == "acme");
  CHECK(first.env.type_name == "conformance.note");
  CHECK(first.env.schema_version == 1);
  CHECK(first.env.attempt == 1);
  CHECK(covers(rec->counts(), 50));
}

inline void concurrent_subscribe(const target& t) {
  node a{t};
  std::deque<node> bs;
  for (int i = 0; i < 3; ++i) bs.emplace_back(t);
  const std::string root = fresh_root(t, "concurrent");
  a.bind(root + ".>", dir::out);
  std::vector<std::shared_ptr<recorder>> recs;
  std::vector<result<bridge_binding>> bound;
  std::vector<result<subscription>> subscribed;
  for (std::size_t i = 0; i < bs.size(); ++i) {
    recs.push_back(std::make_shared<recorder>());
    bound.emplace_back(errc::cancelled);
    subscribed.emplace_back(errc::cancelled);
  }
  std::vector<std::thread> threads;  // no assertions on them: Catch2 is single-threaded
  for (std::size_t i = 0; i < bs.size(); ++i)
    threads.emplace_back([&, i] {
      bound[i] = bs[i].bus.bridge(root + ".>", bs[i].br, dir::in);
      subscribed[i] = bs[i].bus.subscribe<note>(root + ".>", [rec = recs[i]](const note& v) { rec->add(v); });
    });
  for (auto& th : threads) th.join();
  for (std::size_t i = 0; i < bs.size(); ++i) {
    REQUIRE(bound[i]);
    bs[i].bindings.push_back(std::move(bound[i]).value());
    bs[i].keep(std::move(subscribed[i]));
  }
  publish_range(a, root + ".x", 0, 40);
  for (auto& rec : recs) {
    REQUIRE(eventually(t, [&] { return covers(rec->counts(), 40); }));
    CHECK(rec->size() == 40);
  }
}

inline void topic_isolation(const target& t) {
  node a{t}, b{t}, only{t};
  const std::string root = fresh_root(t, "isolation");
  a.bind(root + ".>", dir::out);
  b.bind(root + ".>", dir::in);
  only.bind(root + ".s3", dir::in);
  std::vector<std::shared_ptr<recorder>> per_subject;
  for (int s = 0; s < 8; ++s) per_subject.push_back(b.record(root + ".s" + std::to_string(s)));
  auto only_rec = only.record(root + ".>");
  for (int i = 0; i < 80; ++i)
    REQUIRE(a.bus.publish(root + ".s" + std::to_string(i % 8), note{i, {}}) == errc::ok);
  for (int s = 0; s < 8; ++s) {
    auto& rec = per_subject[s];
    REQUIRE(eventually(t, [&] { return rec->size() >= 10; }));
    for (const auto& item : rec->items()) CHECK(item.value.n % 8 == s);
  }
  REQUIRE(eventually(t, [&] { return only_rec->size() >= 10; }));
  for (const auto& item : only_rec->items()) CHECK(item.env.subject == root + ".s3");
  CHECK(only_rec->size() == 10);
}

inline void no_echo_no_loop(const target& t) {
  node a{t}, b{t};
  const std::string root = fresh_root(t, "loop");
  auto& ab = a.bind(root + ".>", dir::both);
  auto& bb = b.bind(root + ".>", dir::both);
  auto at_a = a.record(root + ".>");
  auto at_b = b.record(root + ".>");
  publish_range(a, root + ".x", 0, 30);
  REQUIRE(eventually(t, [&] { return covers(at_b->counts(), 30) && bb.stats().looped == 30; }));
  REQUIRE(eventually(t, [&] { return ab.stats().sent == 30 && covers(at_a->counts(), 30); }));
  // A's own bridge may hand A's messages back (NATS echoes by default); A drops them.
  CHECK(b.br->flush(t.wait) == errc::ok);
  CHECK(a.br->flush(t.wait) == errc::ok);
  CHECK(at_a->size() == 30);
  CHECK(at_b->size() == 30);
  CHECK(bb.stats().sent == 0);
  CHECK(ab.stats().delivered == 0);
}

inline void resend_on_handler_error(const target& t) {
  a_to_b p{t, "resend"};
  auto& [a, b, root, inbound] = p;
  auto rec = std::make_shared<recorder>();
  auto actor = b.sys.spawn<flaky>(
      courier::supervision{.on_failure = strategy::restart, .intensity = {.max_restarts = 1000}}, rec);
  b.keep(b.bus.subscribe<note>(root + ".>", actor));
  publish_range(a, root + ".x", 0, 20);
  REQUIRE(eventually(t, [&] { return covers(rec->counts(), 20); }));
  for (const auto& item : rec->items())
    if (item.value.n % 4 == 0) CHECK(item.env.attempt >= 2);
}

inline void nothing_lost_on_close(const target& t) {
  node a{t}, b1{t}, b2{t};
  const std::string root = fresh_root(t, "close");
  a.bind(root + ".>", dir::out);
  auto& first = b1.bind(root + ".>", dir::in, {.queue_group = "g"});
  b2.bind(root + ".>", dir::in, {.queue_group = "g"});
  auto r1 = b1.record(root + ".>");
  auto r2 = b2.record(root + ".>");
  auto total = [&] {
    auto c = r1->counts();
    for (auto [n, k] : r2->counts()) c[n] += k;
    return c;
  };
  publish_range(a, root + ".x", 0, 50);
  REQUIRE(eventually(t, [&] { return covers(total(), 50); }));
  std::thread closer{[&] { first.unbind(); }};
  publish_range(a, root + ".x", 50, 150);
  closer.join();
  REQUIRE(eventually(t, [&] { return covers(total(), 150); }));
}

inline void nothing_lost_across_restart(const target& t) {
  a_to_b p{t, "restart", {.durable = "restart"}};
  auto& [a, b, root, inbound] = p;
  auto rec = b.record(root + ".>");
  publish_range(a, root + ".x", 0, 20);
  REQUIRE(a.br->flush(t.wait) == errc::ok);
  t.restart_broker();
  publish_range(a, root + ".x", 20, 40);
  REQUIRE(eventually(t, [&] { return covers(rec->counts(), 40); }));
}

inline void order_per_key(const target& t) {
  a_to_b p{t, "order"};
  auto& [a, b, root, inbound] = p;
  auto rec = b.record(root + ".>");
  for (int i = 0; i < 120; ++i) {
    std::string key = "k" + std::to_string(i % 3);
    REQUIRE(a.bus.publish(root + "." + key, note{i / 3, key}, {.key = key}) == errc::ok);
  }
  REQUIRE(eventually(t, [&] { return rec->size() >= 120; }));
  std::map<std::string, int> next;
  for (const auto& item : rec->items()) CHECK(item.value.n == next[item.env.key]++);
  CHECK(next == std::map<std::string, int>{{"k0", 40}, {"k1", 40}, {"k2", 40}});
}

inline void consumer_groups(const target& t) {
  node a{t}, g1a{t}, g1b{t}, g2{t};
  const std::string root = fresh_root(t, "groups");
  a.bind(root + ".>", dir::out);
  g1a.bind(root + ".>", dir::in, {.queue_group = "g1"});
  g1b.bind(root + ".>", dir::in, {.queue_group = "g1"});
  g2.bind(root + ".>", dir::in, {.queue_group = "g2"});
  auto ra = g1a.record(root + ".>");
  auto rb = g1b.record(root + ".>");
  auto r2 = g2.record(root + ".>");
  publish_range(a, root + ".x", 0, 60);
  REQUIRE(eventually(t, [&] { return ra->size() + rb->size() >= 60 && r2->size() >= 60; }));
  auto g1 = ra->counts();
  for (auto [n, k] : rb->counts()) g1[n] += k;
  CHECK(covers(g1, 60));
  CHECK(covers(r2->counts(), 60));
  CHECK(ra->size() + rb->size() == 60);
  CHECK(r2->size() == 60);
  CHECK(ra->size() > 0);
  CHECK(rb->size() > 0);
}

inline void request_reply(const target& t) {
  a_to_b p{t, "reqrep"};
  auto& [a, b, root, inbound] = p;
  a.bind(root + "-elsewhere.>", dir::out);
  b.keep(b.bus.serve<ask>(root + ".double", b.sys.spawn<doubler>()));
  b.keep(b.bus.serve<ask>(root + ".silent", b.sys.spawn<silent>()));
  auto ask_for = [&](const std::string& subject, int n, duration timeout) {
    auto f = a.bus.request<answer>(subject, ask{n}, timeout);
    REQUIRE(f.wait_for(t.wait + timeout) == std::future_status::ready);
    return f.get();
  };
  auto ok = ask_for(root + ".double", 21, t.wait);
  REQUIRE(ok);
  CHECK(ok->n == 42);
  auto failed = ask_for(root + ".double", -1, t.wait);
  CHECK(failed.error() == errc::handler_failed);
  CHECK(failed.error_text.find("negative input") != std::string::npos);
  CHECK(ask_for(root + ".silent", 1, std::chrono::milliseconds{300}).error() == errc::timeout);
  CHECK(ask_for(root + ".nobody", 1, t.wait).error() == errc::no_responders);
  CHECK(ask_for(root + "-elsewhere.x", 1, t.wait).error() == errc::no_responders);
}

inline void dedupe(const target& t) {
  a_to_b p{t, "dedupe", {.dedupe_window = t.features.native_dedupe ? 0u : 100u}};
  auto& [a, b, root, inbound] = p;
  bridge_binding& bb = *inbound;
  auto rec = b.record(root + ".>");
  const uuid id = uuid::v7();
  REQUIRE(a.bus.publish(root + ".x", note{1, {}}, {.id = id}) == errc::ok);
  REQUIRE(a.bus.publish(root + ".x", note{1, {}}, {.id = id}) == errc::ok);
  REQUIRE(a.bus.publish(root + ".x", note{2, {}}) == errc::ok);
  REQUIRE(eventually(t, [&] {
    return rec->counts().contains(2) && (t.features.native_dedupe || bb.stats().duplicates == 1);
  }));
  CHECK(rec->counts()[1] == 1);
}

}  // namespace courier::conformance

#include "bridges/conformance_bad_bytes.hpp"
#include "bridges/conformance_register.hpp"
