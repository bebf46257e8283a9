#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "courier/runtime/monitor.hpp"
#include "lifecycle_support.hpp"

using namespace std::chrono_literals;
using courier::dead_letter_reason;
using courier::exit_reason;
using courier::strategy;
using courier::supervision;
using courier::test::add;
using courier::test::link_to;
using courier::test::observer;
using courier::test::quit;
using courier::test::seen;
using courier::test::spawn_kid;
using courier::test::unwatch;
using courier::test::watch;
using courier::test::boom;
using courier::test::probe;
using courier::test::real_env;
using courier::test::report;
using courier::test::virtual_env;
using courier::test::worker;


TEMPLATE_TEST_CASE("monitors see the reason an actor stopped: normal, stopped, failed, shutdown", "[monitor]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  seen watched, log;
  auto w = env.sys.template spawn<observer>(&log, false);
  auto self_stopper = env.sys.template spawn<observer>(&watched, false);
  auto stopped = env.sys.template spawn<observer>(&watched, false);
  auto failing = env.sys.template spawn<observer>(&watched, false);
  auto parent = env.sys.template spawn<observer>(&watched, false);
  parent.send(spawn_kid{});
  REQUIRE(env.until([&] {
    std::lock_guard lock{watched.mutex};
    return watched.kids.size() == 1;
  }));
  courier::actor_ref kid = watched.kids[0];
  for (auto* r : {&self_stopper, &stopped, &failing, &kid}) w.send(watch{*r});
  env.settle();

  self_stopper.send(quit{});
  REQUIRE(env.until([&] { return log.down_count() == 1; }));
  stopped.stop();
  REQUIRE(env.until([&] { return log.down_count() == 2; }));
  failing.send(boom{});
  REQUIRE(env.until([&] { return log.down_count() == 3; }));
  parent.stop();  // its child stops with reason shutdown
  REQUIRE(env.until([&] { return log.down_count() == 4; }));

  CHECK(log.down_at(0).who == self_stopper);
  CHECK(log.down_at(0).reason == exit_reason::normal);
  CHECK(log.down_at(1).who == stopped);
  CHECK(log.down_at(1).reason == exit_reason::stopped);
  CHECK(log.down_at(2).who == failing);
  CHECK(log.down_at(2).reason == exit_reason::failed);
  CHECK(log.down_at(2).what == "observer failed");
  CHECK(log.down_at(3).who == kid);
  CHECK(log.down_at(3).reason == exit_reason::shutdown);
  CHECK(std::string{courier::to_string(exit_reason::shutdown)} == "shutdown");
}

TEST_CASE("monitoring an actor that already stopped delivers down at once with its reason", "[monitor]") {
  virtual_env env;
  seen log, other;
  auto w = env.sys.spawn<observer>(&log, false);
  auto plain = env.sys.spawn<observer>(&other, false);
  auto failing = env.sys.spawn<observer>(&other, false);
  plain.send(quit{});
  failing.send(boom{});
  env.settle();
  w.send(watch{plain});
  w.send(watch{failing});
  env.settle();
  REQUIRE(log.down_count() == 2);
  CHECK(log.down_at(0).reason == exit_reason::normal);
  CHECK(log.down_at(1).reason == exit_reason::failed);
  CHECK(log.down_at(1).what == "observer failed");
}

TEST_CASE("demonitor before the stop means no down message", "[monitor]") {
  virtual_env env;
  seen log, other;
  auto w = env.sys.spawn<observer>(&log, false);
  auto target = env.sys.spawn<observer>(&other, false);
  w.send(watch{target});
  w.send(unwatch{target});
  env.settle();
  target.send(quit{});
  env.settle();
  CHECK(log.demonitored);
  CHECK(log.down_count() == 0);
}

TEST_CASE("a restart is not a stop: monitors stay and see nothing until the actor really stops", "[monitor]") {
  virtual_env env;
  seen log;
  probe p{env.sys.timers()};
  auto w = env.sys.spawn<worker>(supervision{.on_failure = strategy::restart}, &p, 1);
  auto obs = env.sys.spawn<observer>(&log, false);
  obs.send(watch{w});
  env.settle();
  w.send(boom{});
  env.settle();
  CHECK(p.builds_of(1) == 2);
  CHECK(log.down_count() == 0);
  w.stop();
  env.settle();
  REQUIRE(log.down_count() == 1);
  CHECK(log.down_at(0).reason == exit_reason::stopped);
}

TEMPLATE_TEST_CASE("linked actors share a failure, but a normal stop does not spread", "[monitor][link]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  seen a_seen, b_seen, c_seen, log;
  auto a = env.sys.template spawn<observer>(&a_seen, false);
  auto b = env.sys.template spawn<observer>(&b_seen, false);
  auto c = env.sys.template spawn<observer>(&c_seen, false);
  auto w = env.sys.template spawn<observer>(&log, false);
  a.send(link_to{b});
  b.send(link_to{c});
  for (auto* r : {&a, &b, &c}) w.send(watch{*r});
  env.settle();

  a.send(boom{});  // b dies with a, and c with b
  REQUIRE(env.until([&] { return log.down_count() == 3; }));
  CHECK(log.down_at(0).who == a);
  CHECK(log.down_at(0).reason == exit_reason::failed);
  CHECK(log.down_at(1).who == b);
  CHECK(log.down_at(1).reason == exit_reason::failed);
  CHECK(log.down_at(1).what == "linked actor failed: observer failed");
  CHECK(log.down_at(2).who == c);

  auto d = env.sys.template spawn<observer>(&a_seen, false);
  auto e = env.sys.template spawn<observer>(&b_seen, false);
  d.send(link_to{e});
  w.send(watch{d});
  w.send(watch{e});
  env.settle();
  d.send(quit{});
  REQUIRE(env.until([&] { return log.down_count() == 4; }));
  env.settle();
  CHECK(log.down_count() == 4);
  CHECK(e.send(add{}) == true);  // e lives on (add is unhandled: a dead letter, but it was accepted)
}

TEMPLATE_TEST_CASE("an actor that traps exits gets an exit_signal instead of dying with its link",
                   "[monitor][link]", virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  seen trapper_seen, other;
  auto trapper = env.sys.template spawn<observer>(&trapper_seen, true);
  auto peer = env.sys.template spawn<observer>(&other, false);
  trapper.send(link_to{peer});
  env.settle();
  peer.send(boom{});
  REQUIRE(env.until([&] { return trapper_seen.exit_count() == 1; }));
  CHECK(trapper_seen.exit_at(0).from == peer);
  CHECK(trapper_seen.exit_at(0).reason == exit_reason::failed);
  CHECK(trapper_seen.exit_at(0).what == "observer failed");
  // Still alive: it handles a monitor request and reports the stop of a new target.
  auto target = env.sys.template spawn<observer>(&other, false);
  trapper.send(watch{target});
  target.send(quit{});
  REQUIRE(env.until([&] { return trapper_seen.down_count() == 1; }));
}

TEST_CASE("linking an actor that already failed stops the linker at once", "[monitor][link]") {
  virtual_env env;
  seen s, log;
  auto dead = env.sys.spawn<observer>(&s, false);
  dead.send(boom{});
  env.settle();
  auto linker = env.sys.spawn<observer>(&s, false);
  auto w = env.sys.spawn<observer>(&log, false);
  w.send(watch{linker});
  linker.send(link_to{dead});
  env.settle();
  REQUIRE(log.down_count() == 1);
  CHECK(log.down_at(0).reason == exit_reason::failed);
}

namespace {

struct ping {};

class sleeper : public courier::actor {
 public:
  using handles = courier::handles<ping, courier::idle_timeout>;
  sleeper(probe* p, courier::duration d, bool callback) : p_{p} {
    if (callback)
      set_idle_timeout(d, [this] { p_->failed(7); });
    else
      set_idle_timeout(d);
  }
  void on(const ping&) { p_->built(8); }
  void on(const courier::idle_timeout&) { p_->failed(7); }

 private:
  probe* p_;
};

}  // namespace

TEST_CASE("an idle timeout fires once after the quiet period, and each message rearms it", "[monitor][idle]") {
  const bool callback = GENERATE(false, true);
  INFO("callback " << callback);
  virtual_env env;
  probe p{env.sys.timers()};
  const auto t0 = env.clock.now();
  auto s = env.sys.spawn<sleeper>(&p, 100ms, callback);
  env.settle();
  env.timers.advance(60ms);
  s.send(ping{});
  env.settle();
  env.timers.advance(60ms);  // t0 + 120ms: only 60ms since the ping
  env.settle();
  CHECK(p.failed_times(7).empty());
  env.timers.advance(40ms);  // t0 + 160ms: 100ms after the ping
  env.settle();
  REQUIRE(p.failed_times(7).size() == 1);
  CHECK(p.failed_times(7)[0] == t0 + 160ms);
  env.timers.advance(1s);  // one timeout per quiet period, not one per 100ms
  env.settle();
  CHECK(p.failed_times(7).size() == 1);
  s.send(ping{});  // rearms
  env.settle();
  env.timers.advance(100ms);
  env.settle();
  REQUIRE(p.failed_times(7).size() == 2);
  CHECK(p.failed_times(7)[1] == t0 + 1260ms);
  CHECK(env.sys.dead_letters().total() == 0);
}

TEST_CASE("a stopped actor's idle timer is cancelled", "[monitor][idle]") {
  virtual_env env;
  probe p{env.sys.timers()};
  auto s = env.sys.spawn<sleeper>(&p, 100ms, false);
  env.settle();
  CHECK(env.timers.pending() == 1);
  s.stop();
  env.settle();
  CHECK(env.timers.pending() == 0);
  env.timers.advance(1s);
  env.settle();
  CHECK(p.failed_times(7).empty());
}

TEST_CASE("a timeout that fired while mail waited is stale once that mail is handled", "[monitor][idle]") {
  const bool callback = GENERATE(false, true);
  INFO("callback " << callback);
  virtual_env env;
  probe p{env.sys.timers()};
  const auto t0 = env.clock.now();
  auto s = env.sys.spawn<sleeper>(&p, 5ms, callback);
  s.send(ping{});            // queued, not yet handled...
  env.timers.advance(5ms);   // ...when the quiet period since the spawn runs out
  env.settle();              // the ping, then the timeout it made stale, in one turn
  CHECK(p.built_times(8) == std::vector{t0 + 5ms});
  CHECK(p.failed_times(7).empty());
  env.timers.advance(5ms - 1ns);
  env.settle();
  CHECK(p.failed_times(7).empty());
  env.timers.advance(1ns);  // five quiet milliseconds after the ping
  env.settle();
  CHECK(p.failed_times(7) == std::vector{t0 + 10ms});
}

TEST_CASE("an idle timeout works on a thread_pool with real time", "[monitor][idle]") {
  real_env env;
  probe p{env.sys.timers()};
  auto s = env.sys.spawn<sleeper>(&p, 5ms, false);
  s.send(ping{});
  REQUIRE(env.until([&] { return p.failed_times(7).size() == 1; }));
  CHECK(p.failed_times(7)[0] - p.built_times(8).at(0) >= 5ms);
}

TEST_CASE("dead-letter subscribers get message, receiver and reason until they unsubscribe", "[dead_letter]") {
  virtual_env env;
  seen s;
  std::vector<courier::dead_letter> got;
  auto sub = env.sys.subscribe_dead_letters([&](const courier::dead_letter& d) { got.push_back(d); });
  auto target = env.sys.spawn<observer>(&s, false);
  target.send(add{7});  // not in observer's handles
  env.settle();
  target.stop();
  env.settle();
  CHECK_FALSE(target.send(report{}));
  REQUIRE(got.size() == 2);
  CHECK(got[0].reason == dead_letter_reason::unhandled);
  CHECK(got[0].receiver == target);
  CHECK(got[0].msg->as<add>().n == 7);
  CHECK(got[1].reason == dead_letter_reason::stopped);
  sub.unsubscribe();
  CHECK_FALSE(sub.active());
  CHECK_FALSE(target.send(report{}));
  CHECK(got.size() == 2);
  CHECK(env.sys.dead_letters().total() == 3);
}

TEST_CASE("dead-letter subscriptions come and go safely while other threads dead-letter", "[dead_letter]") {
  real_env env;
  seen s;
  auto target = env.sys.spawn<observer>(&s, false);
  target.stop();
  REQUIRE(env.until([&] { return !target.send(report{}); }));
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 2; ++t)
    senders.emplace_back([&] {
      while (!done.load()) target.send(report{});
    });
  std::uint64_t last = 0;
  for (int round = 0; round < 50; ++round) {
    std::atomic<std::uint64_t> mine{0};
    {
      auto sub = env.sys.subscribe_dead_letters([&](const courier::dead_letter& d) {
        if (d.reason == dead_letter_reason::stopped) mine.fetch_add(1);
        delivered.fetch_add(1);
      });
      REQUIRE(courier::test::wait_for([&] { return mine.load() > 0; }, 20s));
    }  // unsubscribed: `mine` may go out of scope right after
    last = delivered.load();
  }
  done = true;
  for (auto& t : senders) t.join();
  CHECK(last >= 50);
  CHECK(env.sys.dead_letters()[dead_letter_reason::stopped] >= last);
}

namespace {

struct disarm {};

class dozer : public courier::actor {
 public:
  using handles = courier::handles<disarm, courier::idle_timeout>;
  dozer(probe* p, bool throwing) : p_{p} {
    p_->built(9);
    if (throwing)
      set_idle_timeout(10ms, [] { throw std::runtime_error{"idle callback failed"}; });
    else
      set_idle_timeout(10ms);
  }
  void on(const disarm&) { set_idle_timeout(courier::duration::zero()); }
  void on(const courier::idle_timeout&) { p_->failed(9); }

 private:
  probe* p_;
};

}  // namespace

TEST_CASE("an idle callback that throws is a failure for supervision, and the new instance rearms", "[monitor][idle]") {
  virtual_env env;
  probe p{env.sys.timers()};
  auto d = env.sys.spawn<dozer>(supervision{.on_failure = strategy::restart, .intensity = {.max_restarts = 10}}, &p,
                                true);
  env.settle();
  env.timers.advance(10ms);
  env.settle();
  CHECK(p.builds_of(9) == 2);
  env.timers.advance(10ms);
  env.settle();
  CHECK(p.builds_of(9) == 3);
  CHECK(env.sys.dead_letters()[dead_letter_reason::failed] == 2);
}

TEST_CASE("disarming the idle timeout discards one that was already queued", "[monitor][idle]") {
  virtual_env env;
  probe p{env.sys.timers()};
  auto d = env.sys.spawn<dozer>(&p, false);
  env.settle();
  d.send(disarm{});          // queued, not yet handled
  env.timers.advance(10ms);  // the timeout fires and queues behind it
  env.settle();
  CHECK(p.failed_times(9).empty());
  CHECK(env.sys.dead_letters().total() == 0);
  CHECK(env.timers.pending() == 0);
}

TEST_CASE("a dead-letter sink may unsubscribe itself from inside its call", "[dead_letter]") {
  virtual_env env;
  seen s;
  int calls = 0;
  courier::dead_letter_subscription sub;
  sub = env.sys.subscribe_dead_letters([&](const courier::dead_letter&) {
    ++calls;
    sub.unsubscribe();  // must not wait for itself
  });
  auto target = env.sys.spawn<observer>(&s, false);
  target.stop();
  env.settle();
  CHECK_FALSE(target.send(report{}));
  CHECK_FALSE(target.send(report{}));
  CHECK(calls == 1);
  CHECK(env.sys.dead_letters().total() == 2);
}

// The outer sink's call is further down this thread's stack when the inner
// one unsubscribes it: waiting for that call to end would wait forever.
TEST_CASE("a dead-letter sink may unsubscribe one whose call it runs inside", "[dead_letter]") {
  virtual_env env;
  seen s;
  auto target = env.sys.spawn<observer>(&s, false);
  target.stop();
  env.settle();
  int outer_calls = 0, inner_calls = 0;
  courier::dead_letter_subscription outer, inner;
  outer = env.sys.subscribe_dead_letters([&](const courier::dead_letter&) {
    if (++outer_calls == 1) CHECK_FALSE(target.send(report{}));  // a dead letter inside this one's call
  });
  inner = env.sys.subscribe_dead_letters([&](const courier::dead_letter&) {
    ++inner_calls;
    outer.unsubscribe();  // outer's first call is still running, below on this stack
  });
  CHECK_FALSE(target.send(report{}));
  CHECK(outer_calls == 2);  // the first dead letter, then the nested one
  CHECK(inner_calls == 2);  // the nested one (where it unsubscribes outer), then the first
  CHECK_FALSE(target.send(report{}));
  CHECK(outer_calls == 2);  // unsubscribed
  CHECK(inner_calls == 3);
}
