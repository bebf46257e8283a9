#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "courier/runtime.hpp"
#include "courier/runtime/delayed.hpp"
#include "courier/runtime/metrics.hpp"
#include "courier/runtime/prometheus_writer.hpp"
#include "courier/runtime/timers.hpp"
#include "prometheus_check.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using courier::dead_letter_reason;

namespace metrics_test {

struct tick {};
struct boom {};
struct stray {};

class counter : public courier::actor {
 public:
  using handles = courier::handles<tick>;
  void on(const tick&) {}
};

class flaky : public courier::actor {
 public:
  using handles = courier::handles<tick, boom>;
  void on(const tick&) {}
  void on(const boom&) { throw std::runtime_error("boom"); }
};

struct fill {
  int n;
};

/// Queues `n` ticks to itself from inside its handler.
class filler : public courier::actor {
 public:
  using handles = courier::handles<fill, tick>;
  void on(const fill& f) {
    for (int i = 0; i < f.n; ++i) self().send(tick{});
  }
  void on(const tick&) {}
};

struct hop {
  int left;
};

/// Passes a hop on to its neighbour until the count runs out.
class relay : public courier::actor {
 public:
  using handles = courier::handles<hop, courier::actor_ref>;
  void on(const courier::actor_ref& next) { next_ = next; }
  void on(const hop& h) {
    if (h.left > 0) next_.send(hop{h.left - 1});
  }

 private:
  courier::actor_ref next_;
};

/// A manual executor, virtual time and a system with every handler timed.
struct deterministic {
  courier::manual_executor exec{{.seed = 7}};
  courier::virtual_clock clock;
  courier::virtual_timers timers{clock};
  courier::system sys{{.exec = &exec, .timers = &timers, .metrics = true, .metrics_time_every = 1}};
};

const courier::actor_metrics& of_type(const courier::metrics_snapshot& s, const std::string& suffix) {
  for (const auto& t : s.types)
    if (t.type.ends_with(suffix)) return t;
  FAIL("no actor type ending in " << suffix);
  throw std::logic_error("unreachable");
}

}  // namespace metrics_test

using namespace metrics_test;

TEST_CASE("metrics count handled messages and mailbox depth exactly on the manual executor", "[metrics]") {
  deterministic d;
  auto a = d.sys.spawn<counter>();
  auto b = d.sys.spawn<counter>();
  for (int i = 0; i < 5; ++i) REQUIRE(a.send(tick{}));
  for (int i = 0; i < 2; ++i) REQUIRE(b.send(tick{}));

  auto before = d.sys.metrics().snapshot();
  REQUIRE(before.enabled);
  CHECK(of_type(before, "::counter").mailbox_depth == 7);  // queued in both mailboxes
  CHECK(of_type(before, "::counter").handled == 0);

  d.exec.run();
  auto after = d.sys.metrics().snapshot();
  const auto& c = of_type(after, "::counter");
  CHECK(c.type == "metrics_test::counter");
  CHECK(c.handled == 7);
  CHECK(c.mailbox_depth == 0);
  CHECK(c.mailbox_depth_max == 5);  // a's mailbox, when its first message left it
  CHECK(c.handler_ns.count == 7);   // metrics_time_every = 1: every call timed
  CHECK(after.total.handled == 7);
  CHECK(after.handler_time_every == 1);

  // A second burst, deeper than the first, raises the maximum; a shallower one does not.
  for (int i = 0; i < 9; ++i) REQUIRE(b.send(tick{}));
  d.exec.run();
  for (int i = 0; i < 3; ++i) REQUIRE(a.send(tick{}));
  d.exec.run();
  auto last = d.sys.metrics().snapshot();
  CHECK(of_type(last, "::counter").mailbox_depth_max == 9);
  CHECK(of_type(last, "::counter").handled == 19);
  CHECK(last.total.mailbox_depth_max == 9);
}

TEST_CASE("mailbox depth counts messages that arrive while the actor runs", "[metrics]") {
  deterministic d;
  auto f = d.sys.spawn<filler>();
  REQUIRE(f.send(fill{6}));
  d.exec.run();
  auto s = d.sys.metrics().snapshot();
  CHECK(of_type(s, "::filler").mailbox_depth_max == 6);  // the six ticks, when the first left
  CHECK(of_type(s, "::filler").handled == 7);
  // fill{4} leaves with fill{5} behind it and adds 4 ticks; fill{5} adds 5
  // more behind those, so the first tick leaves a mailbox of 9.
  REQUIRE(f.send(fill{4}));
  REQUIRE(f.send(fill{5}));
  d.exec.run();
  s = d.sys.metrics().snapshot();
  CHECK(of_type(s, "::filler").mailbox_depth_max == 9);
  CHECK(of_type(s, "::filler").handled == 18);
  CHECK(of_type(s, "::filler").mailbox_depth == 0);
}

TEST_CASE("metrics count restarts and dead letters by reason and type", "[metrics]") {
  deterministic d;
  auto f = d.sys.spawn<flaky>(courier::supervision{.on_failure = courier::strategy::restart});
  auto c = d.sys.spawn<counter>();
  REQUIRE(f.send(boom{}));
  REQUIRE(f.send(tick{}));
  REQUIRE(f.send(boom{}));
  REQUIRE(c.send(stray{}));
  d.exec.run();
  c.stop();
  d.exec.run();
  CHECK_FALSE(c.send(tick{}));

  auto s = d.sys.metrics().snapshot();
  const auto& fm = of_type(s, "::flaky");
  CHECK(fm.restarts == 2);
  CHECK(fm.handled == 3);  // both failures and the tick reached a handler
  CHECK(fm.dead_letters[dead_letter_reason::failed] == 2);
  const auto& cm = of_type(s, "::counter");
  CHECK(cm.handled == 0);
  CHECK(cm.dead_letters[dead_letter_reason::unhandled] == 1);
  CHECK(cm.dead_letters[dead_letter_reason::stopped] == 1);
  CHECK(s.total.restarts == 2);
  CHECK(s.total.dead_letters.total() == 4);
  CHECK(s.total.dead_letters.by_reason == d.sys.dead_letters().by_reason);
}

TEST_CASE("metrics report the timers pending", "[metrics]") {
  deterministic d;
  auto c = d.sys.spawn<counter>();
  courier::send_after(d.timers, c, 10ms, tick{});
  courier::send_after(d.timers, c, 20ms, tick{});
  auto id = courier::send_after(d.timers, c, 30ms, tick{});
  CHECK(d.sys.metrics().snapshot().timers_pending == 3);
  CHECK(d.timers.cancel(id));
  d.timers.advance(15ms);
  CHECK(d.sys.metrics().snapshot().timers_pending == 1);
  d.timers.advance(10ms);
  d.exec.run();
  auto s = d.sys.metrics().snapshot();
  CHECK(s.timers_pending == 0);
  CHECK(of_type(s, "::counter").handled == 2);
}

TEST_CASE("a system without metrics keeps only its totals", "[metrics]") {
  courier::manual_executor exec;
  courier::system sys{{.exec = &exec}};
  auto c = sys.spawn<counter>();
  REQUIRE(c.send(stray{}));
  exec.run();
  auto s = sys.metrics().snapshot();
  CHECK_FALSE(s.enabled);
  CHECK(s.types.empty());
  CHECK(s.total.dead_letters[dead_letter_reason::unhandled] == 1);
  CHECK(s.spawned == 1);
  const auto p = courier::test::check_prometheus(sys.metrics().to_prometheus());
  CHECK(p.errors.empty());
  CHECK(p.value("courier_dead_letters_total", {{"reason", "unhandled"}}) == 1);
  CHECK_FALSE(p.types.contains("courier_actor_messages_handled_total"));
}

TEST_CASE("a zero handler-time sampling rate is rejected", "[metrics]") {
  courier::manual_executor exec;
  CHECK_THROWS_AS((courier::system{{.exec = &exec, .metrics = true, .metrics_time_every = 0}}),
                  std::invalid_argument);
}

TEST_CASE("the Prometheus exposition follows the text format's rules", "[metrics]") {
  deterministic d;
  auto f = d.sys.spawn<flaky>(courier::supervision{.on_failure = courier::strategy::restart});
  auto c = d.sys.spawn<counter>();
  for (int i = 0; i < 4; ++i) REQUIRE(c.send(tick{}));
  REQUIRE(f.send(boom{}));
  REQUIRE(c.send(stray{}));
  courier::send_after(d.timers, c, 1s, tick{});
  d.exec.run();

  const std::string text = d.sys.metrics().to_prometheus();
  const auto p = courier::test::check_prometheus(text);
  INFO(text);
  for (const auto& e : p.errors) FAIL_CHECK(e);
  CHECK(p.errors.empty());

  const std::map<std::string, std::string> counter_label{{"actor_type", "metrics_test::counter"}};
  CHECK(p.value("courier_actor_messages_handled_total", counter_label) == 4);
  CHECK(p.value("courier_actor_mailbox_depth_max", counter_label) == 5);
  CHECK(p.value("courier_actor_restarts_total", {{"actor_type", "metrics_test::flaky"}}) == 1);
  CHECK(p.value("courier_actor_dead_letters_total", {{"actor_type", "metrics_test::counter"}, {"reason", "unhandled"}}) == 1);
  CHECK(p.value("courier_messages_handled_total") == 5);
  CHECK(p.value("courier_timers_pending") == 1);
  CHECK(p.value("courier_handler_seconds_count") == 5);
  CHECK(p.value("courier_actor_handler_seconds_count", counter_label) == 4);
  CHECK(p.value("courier_actor_handler_seconds_bucket", {{"actor_type", "metrics_test::counter"}, {"le", "+Inf"}}) == 4);
  CHECK(p.types.at("courier_handler_seconds") == "histogram");
  CHECK(p.types.at("courier_mailbox_depth") == "gauge");
}

TEST_CASE("the Prometheus writer escapes label values and rejects bad names", "[metrics]") {
  courier::prometheus_writer w;
  const std::string nasty = "a\\b\"c\nd";
  w.family("bus_subject_messages_total", courier::prometheus_writer::kind::counter, "Per subject.\nTwo lines.");
  w.sample({{"subject", nasty}}, 3);
  courier::histogram_snapshot h;
  h.buckets[courier::histogram_buckets::index(5)] = 2;
  h.buckets[courier::histogram_buckets::index(1000)] = 1;
  h.buckets[courier::histogram_buckets::index(1u << 20)] = 1;
  h.count = 4;
  h.sum = 5 + 5 + 1000 + (1u << 20);
  w.family("bus_latency_seconds", courier::prometheus_writer::kind::histogram, "Latency.");
  const std::uint64_t bounds[] = {7, 1023, 65535};
  w.histogram({}, h, bounds, 1e-9);

  const auto p = courier::test::check_prometheus(w.text());
  INFO(w.text());
  for (const auto& e : p.errors) FAIL_CHECK(e);
  CHECK(p.value("bus_subject_messages_total", {{"subject", nasty}}) == 3);  // unescaped back to the original
  CHECK(w.text().find(R"(subject="a\\b\"c\nd")") != std::string::npos);
  CHECK(w.text().find("# HELP bus_subject_messages_total Per subject.\\nTwo lines.\n") != std::string::npos);
  CHECK(p.value("bus_latency_seconds_bucket", {{"le", "7e-09"}}) == 2);
  CHECK(p.value("bus_latency_seconds_bucket", {{"le", "1.023e-06"}}) == 3);
  CHECK(p.value("bus_latency_seconds_bucket", {{"le", "6.5535e-05"}}) == 3);
  CHECK(p.value("bus_latency_seconds_bucket", {{"le", "+Inf"}}) == 4);
  CHECK(p.value("bus_latency_seconds_count") == 4);

  using kind = courier::prometheus_writer::kind;
  courier::prometheus_writer bad;
  CHECK_THROWS_AS(bad.family("9lives", kind::gauge, ""), std::invalid_argument);
  CHECK_THROWS_AS(bad.family("requests", kind::counter, ""), std::invalid_argument);
  CHECK_THROWS_AS(bad.sample({}, 1), std::invalid_argument);  // no family yet
  bad.family("ok_gauge", kind::gauge, "");
  CHECK_THROWS_AS(bad.family("ok_gauge", kind::gauge, ""), std::invalid_argument);
  CHECK_THROWS_AS(bad.sample({{"bad-name", "x"}}, 1), std::invalid_argument);
  CHECK_THROWS_AS(bad.sample({{"__reserved", "x"}}, 1), std::invalid_argument);
}

TEST_CASE("metrics stay exact while workers update them and another thread reads", "[metrics][thread_pool]") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  INFO("workers " << workers);
  constexpr int ring = 8, seeds = 64, hops = 500;
  std::uint64_t last_read = 0;  // written by the reader, read after it joined
  bool bad_read = false;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  {
    courier::system sys{{.workers = workers, .metrics = true}};
    std::vector<courier::actor_ref> actors;
    for (int i = 0; i < ring; ++i) actors.push_back(sys.spawn<relay>());
    for (int i = 0; i < ring; ++i) REQUIRE(actors[i].send(actors[(i + 1) % ring]));

    std::thread reader([&] {
      while (!done.load(std::memory_order_acquire)) {
        const auto s = sys.metrics().snapshot();
        // Every counter only grows, so a later sum is never smaller.
        if (s.total.handled < last_read) bad_read = true;
        last_read = s.total.handled;
        if (!courier::test::check_prometheus(sys.metrics().to_prometheus()).errors.empty()) bad_read = true;
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
    // The hops start once the reader is reading, so its reads overlap them.
    REQUIRE(courier::test::wait_for([&] { return reads.load(std::memory_order_relaxed) >= 1; }, 60s));
    for (int i = 0; i < seeds; ++i) REQUIRE(actors[i % ring].send(hop{hops}));
    const bool idle = sys.await_idle(60s);
    done.store(true, std::memory_order_release);
    reader.join();
    REQUIRE(idle);

    const auto s = sys.metrics().snapshot();
    const auto& r = of_type(s, "::relay");
    CHECK(r.handled == std::uint64_t{ring} + std::uint64_t{seeds} * (hops + 1));
    CHECK(r.mailbox_depth == 0);
    CHECK(r.mailbox_depth_max >= 1);
    CHECK(r.mailbox_depth_max <= std::uint64_t{ring + seeds});
    CHECK(s.total.dead_letters.total() == 0);
    CHECK_FALSE(bad_read);
    CHECK(last_read <= r.handled);
    const auto p = courier::test::check_prometheus(sys.metrics().to_prometheus());
    CHECK(p.errors.empty());
  }
}

TEST_CASE("an actor's counts stay in its type's totals after it is destroyed", "[metrics]") {
  deterministic d;
  {
    auto a = d.sys.spawn<counter>();
    for (int i = 0; i < 4; ++i) REQUIRE(a.send(tick{}));
    d.exec.run();
    a.stop();
    d.exec.run();
  }  // the last handle goes: the cell is destroyed and folds its counts
  auto b = d.sys.spawn<counter>();
  for (int i = 0; i < 2; ++i) REQUIRE(b.send(tick{}));
  const auto s = d.sys.metrics().snapshot();
  CHECK(s.live_actors == 1);
  const auto& c = of_type(s, "::counter");
  CHECK(c.handled == 4);           // the destroyed actor's four; b's two are still queued
  CHECK(c.mailbox_depth == 2);     // only live mailboxes hold messages
  CHECK(c.mailbox_depth_max == 4);
  d.exec.run();
  CHECK(of_type(d.sys.metrics().snapshot(), "::counter").handled == 6);
}

TEST_CASE("metrics count every actor once while actors come and go and another thread reads",
          "[metrics][thread_pool]") {
  constexpr int spawners = 2, rounds = 400, ticks = 5;
  std::atomic<bool> done{false};
  bool went_back = false;  // written by the reader, read after it joined
  courier::system sys{{.workers = 2, .metrics = true}};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      const auto s = sys.metrics().snapshot();
      if (s.total.handled < last) went_back = true;  // an actor counted twice, then once
      last = s.total.handled;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < spawners; ++t)
    threads.emplace_back([&] {
      for (int r = 0; r < rounds; ++r) {
        auto a = sys.spawn<counter>();
        for (int i = 0; i < ticks; ++i) (void)a.send(tick{});
        a.stop();  // ticks still queued when it stops become dead letters
      }
    });
  for (auto& t : threads) t.join();
  const bool idle = sys.await_idle(60s);
  done.store(true, std::memory_order_release);
  reader.join();
  REQUIRE(idle);
  const auto s = sys.metrics().snapshot();
  CHECK_FALSE(went_back);
  CHECK(s.live_actors == 0);  // every count below was folded in by a destroyed actor
  CHECK(of_type(s, "::counter").handled + s.total.dead_letters.total() == std::uint64_t{spawners} * rounds * ticks);
  CHECK(of_type(s, "::counter").mailbox_depth == 0);
}
