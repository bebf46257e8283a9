#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "courier/runtime/monitor.hpp"
#include "courier/runtime/supervision.hpp"
#include "lifecycle_support.hpp"

using namespace std::chrono_literals;
using courier::dead_letter_reason;
using courier::exit_reason;
using courier::strategy;
using courier::supervision;
using courier::supervision_group;
using courier::test::add;
using courier::test::boom;
using courier::test::boss;
using courier::test::observer;
using courier::test::seen;
using courier::test::watch;
using courier::test::probe;
using courier::test::real_env;
using courier::test::report;
using courier::test::virtual_env;
using courier::test::worker;

namespace {

supervision restart_spec() {
  return supervision{.on_failure = strategy::restart, .intensity = {.max_restarts = 100, .within = 1s}};
}

}  // namespace

TEMPLATE_TEST_CASE("restart builds a fresh instance at the same address and keeps its mailbox",
                   "[supervision]", virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  auto w = env.sys.template spawn<worker>(restart_spec(), &p, 1);
  const auto address = w;

  // Sent together: add 5 is queued behind the failure, so the new instance handles it.
  CHECK(w.send(add{3}));
  CHECK(w.send(boom{}));
  CHECK(w.send(add{5}));
  CHECK(w.send(report{}));
  REQUIRE(env.until([&] { return p.report_count() == 1; }));

  CHECK(p.builds_of(1) == 2);
  CHECK(p.sum_of(1) == 5);  // fresh state: the 3 died with the old instance
  CHECK(w == address);
  CHECK(env.sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK(env.sys.dead_letters()[dead_letter_reason::stopped] == 0);

  CHECK(w.send(add{2}));
  CHECK(w.send(report{}));
  REQUIRE(env.until([&] { return p.report_count() == 2; }));
  CHECK(p.sum_of(1) == 7);
}

TEMPLATE_TEST_CASE("stop strategy stops the failing actor with reason failed and the exception's text",
                   "[supervision]", virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  seen log;
  auto w = env.sys.template spawn<worker>(supervision{.on_failure = strategy::stop}, &p, 1);
  auto obs = env.sys.template spawn<observer>(&log, false);
  obs.send(watch{w});
  env.settle();
  w.send(boom{});
  REQUIRE(env.until([&] { return log.down_count() == 1; }));
  CHECK(log.down_at(0).who == w);
  CHECK(log.down_at(0).reason == exit_reason::failed);
  CHECK(log.down_at(0).what == "boom in worker 1");
  CHECK(p.builds_of(1) == 1);
  CHECK_FALSE(w.send(add{1}));
  CHECK(env.sys.dead_letters()[dead_letter_reason::stopped] == 1);
}

TEMPLATE_TEST_CASE("escalate fails the parent, whose own restart rebuilds its children", "[supervision]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  auto b = env.sys.template spawn<boss>(restart_spec(), &p, 2, supervision{.on_failure = strategy::escalate},
                                        supervision_group::one_for_one);
  env.settle();
  auto first = p.current_kids();
  REQUIRE(first.size() == 2);
  first[0].send(add{4});
  first[1].send(add{6});
  first[0].send(boom{});
  REQUIRE(env.until([&] { return p.builds_of(100) == 2; }));  // the boss restarted
  REQUIRE(env.until([&] { return p.builds_of(0) == 2 && p.builds_of(1) == 2; }));
  auto second = p.current_kids();
  REQUIRE(second.size() == 2);
  CHECK(second[0] != first[0]);  // the old children stopped with their parent
  REQUIRE(env.until([&] { return !first[1].send(add{1}); }));  // the old sibling stopped too
  second[1].send(report{});
  REQUIRE(env.until([&] { return p.sum_of(1) == 0; }));
}

TEMPLATE_TEST_CASE("escalating past a top-level actor stops it with reason failed", "[supervision]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  seen log;
  auto w = env.sys.template spawn<worker>(supervision{.on_failure = strategy::escalate}, &p, 1);
  auto obs = env.sys.template spawn<observer>(&log, false);
  obs.send(watch{w});
  env.settle();
  w.send(boom{});
  REQUIRE(env.until([&] { return log.down_count() == 1; }));
  CHECK(log.down_at(0).reason == exit_reason::failed);
  CHECK(p.builds_of(1) == 1);
}

TEMPLATE_TEST_CASE("exceeding the restart intensity escalates to the parent", "[supervision]", virtual_env,
                   real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  seen log;
  const supervision child{.on_failure = strategy::restart, .intensity = {.max_restarts = 2, .within = 1h}};
  auto b = env.sys.template spawn<boss>(supervision{.on_failure = strategy::stop}, &p, 1, child,
                                        supervision_group::one_for_one);
  auto obs = env.sys.template spawn<observer>(&log, false);
  obs.send(watch{b});
  env.settle();
  auto kid = p.current_kids().at(0);
  for (int i = 0; i < 3; ++i) kid.send(boom{});
  REQUIRE(env.until([&] { return log.down_count() == 1; }));
  CHECK(p.builds_of(0) == 3);  // the first instance and two restarts; the third failure escalated
  CHECK(log.down_at(0).who == b);
  CHECK(log.down_at(0).reason == exit_reason::failed);
  CHECK(log.down_at(0).what.rfind("child failed: ", 0) == 0);  // the parent's failure names its child's
  CHECK(log.down_at(0).what.find("restart intensity exceeded") != std::string::npos);
  CHECK(log.down_at(0).what.find("boom in worker 0") != std::string::npos);
}

TEST_CASE("restarts older than the intensity window do not count towards it", "[supervision]") {
  virtual_env env;
  probe p{env.sys.timers()};
  auto w = env.sys.spawn<worker>(
      supervision{.on_failure = strategy::restart, .intensity = {.max_restarts = 2, .within = 10s}}, &p, 1);
  for (int round = 0; round < 5; ++round) {
    w.send(boom{});
    w.send(boom{});
    env.settle();
    env.timers.advance(11s);
  }
  CHECK(p.builds_of(1) == 11);
  CHECK(w.send(add{1}));
}

TEMPLATE_TEST_CASE("restart_with_backoff waits a delay within the configured bounds", "[supervision]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  const courier::backoff_policy policy{
      .min = 20ms, .max = 200ms, .multiplier = 2.0, .jitter = 0.25, .reset_after = 1h, .seed = 42};
  auto w = env.sys.template spawn<worker>(
      supervision{.on_failure = strategy::restart_with_backoff, .backoff = policy, .intensity = {.max_restarts = 100}},
      &p, 1);
  constexpr int failures = 6;
  for (int k = 0; k < failures; ++k) {
    w.send(boom{});
    w.send(add{1});  // waits in the mailbox through the backoff
    REQUIRE(env.until([&] { return p.builds_of(1) == k + 2; }));
  }
  w.send(report{});
  REQUIRE(env.until([&] { return p.report_count() == 1; }));
  CHECK(p.sum_of(1) == 1);  // the last instance handled the add queued behind its predecessor's failure

  auto failed = p.failed_times(1);
  auto built = p.built_times(1);
  REQUIRE(failed.size() == failures);
  for (int k = 0; k < failures; ++k) {
    const auto delay = built[k + 1] - failed[k];
    const double base = std::min(200.0, 20.0 * (1 << k));  // capped at max, then jittered
    const auto lo = std::chrono::duration<double, std::milli>{std::clamp(base * 0.75, 20.0, 200.0)};
    const auto hi = std::chrono::duration<double, std::milli>{std::clamp(base * 1.25, 20.0, 200.0)};
    const double waited_ms = std::chrono::duration<double, std::milli>(delay).count();
    INFO("restart " << k << " waited " << waited_ms << " ms");
    CHECK(delay >= lo);
    if constexpr (TestType::virtual_time) CHECK(delay <= hi);  // real time may only be late
  }
}

TEST_CASE("restart_with_backoff starts again from min after a quiet period", "[supervision]") {
  virtual_env env;
  probe p{env.sys.timers()};
  const courier::backoff_policy policy{
      .min = 10ms, .max = 10s, .multiplier = 3.0, .jitter = 0.0, .reset_after = 5s, .seed = 1};
  auto w = env.sys.spawn<worker>(
      supervision{.on_failure = strategy::restart_with_backoff, .backoff = policy, .intensity = {.max_restarts = 100}},
      &p, 1);
  auto fail_and_wait = [&] {
    w.send(boom{});
    const int before = p.builds_of(1);
    REQUIRE(env.until([&] { return p.builds_of(1) == before + 1; }));
    return p.built_times(1).back() - p.failed_times(1).back();
  };
  CHECK(fail_and_wait() == 10ms);
  CHECK(fail_and_wait() == 30ms);
  CHECK(fail_and_wait() == 90ms);
  env.timers.advance(5s);
  CHECK(fail_and_wait() == 10ms);
}

TEST_CASE("backoff_delay stays within min and max for any attempt and random value", "[supervision]") {
  COURIER_TEST_SEED(seed);
  courier::splitmix64 rng{seed};
  const courier::backoff_policy p{.min = 5ms, .max = 3s, .multiplier = 1.7, .jitter = 0.5};
  for (std::uint32_t attempt = 0; attempt < 200; ++attempt) {
    const auto d = courier::backoff_delay(p, attempt, rng.next());
    REQUIRE(d >= p.min);
    REQUIRE(d <= p.max);
  }
  CHECK(courier::backoff_delay(p, 1000, 0) >= p.min);
  CHECK(courier::backoff_delay({.min = 1ms, .max = 1s, .jitter = 0.0}, 3, 99) == 8ms);
}

TEMPLATE_TEST_CASE("one_for_one: a failing child leaves its siblings' state untouched", "[supervision]",
                   virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  auto b = env.sys.template spawn<boss>(supervision{.on_failure = strategy::stop}, &p, 3, restart_spec(),
                                        supervision_group::one_for_one);
  env.settle();
  auto kids = p.current_kids();
  REQUIRE(kids.size() == 3);
  for (int i = 0; i < 3; ++i) kids[i].send(add{10 * (i + 1)});
  kids[1].send(boom{});
  for (auto& k : kids) k.send(report{});
  REQUIRE(env.until([&] { return p.report_count() == 3; }));
  CHECK(p.sum_of(0) == 10);
  CHECK(p.sum_of(1) == 0);
  CHECK(p.sum_of(2) == 30);
  CHECK(p.builds_of(0) == 1);
  CHECK(p.builds_of(1) == 2);
  CHECK(p.builds_of(2) == 1);
  CHECK(p.builds_of(100) == 1);
}

TEMPLATE_TEST_CASE("all_for_one: a failing child restarts every child, each keeping its mailbox",
                   "[supervision]", virtual_env, real_env) {
  TestType env;
  INFO(TestType::name);
  probe p{env.sys.timers()};
  auto b = env.sys.template spawn<boss>(supervision{.on_failure = strategy::stop}, &p, 3, restart_spec(),
                                        supervision_group::all_for_one);
  env.settle();
  auto kids = p.current_kids();
  REQUIRE(kids.size() == 3);
  for (int i = 0; i < 3; ++i) kids[i].send(add{10 * (i + 1)});
  env.settle();
  kids[1].send(boom{});
  REQUIRE(env.until([&] { return p.builds_of(0) == 2 && p.builds_of(1) == 2 && p.builds_of(2) == 2; }));
  for (int i = 0; i < 3; ++i) kids[i].send(add{i + 1});
  for (auto& k : kids) k.send(report{});
  REQUIRE(env.until([&] { return p.report_count() == 3; }));
  CHECK(p.sum_of(0) == 1);
  CHECK(p.sum_of(1) == 2);
  CHECK(p.sum_of(2) == 3);
  CHECK(p.current_kids() == kids);  // same addresses
  CHECK(p.builds_of(100) == 1);
}

TEST_CASE("a handler exception in a plain actor stops it and never reaches std::terminate", "[supervision]") {
  virtual_env env;
  probe p{env.sys.timers()};
  auto w = env.sys.spawn<worker>(&p, 1);
  w.send(boom{});
  w.send(add{1});
  env.settle();
  CHECK(p.builds_of(1) == 1);
  CHECK(env.sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK(env.sys.dead_letters()[dead_letter_reason::stopped] == 1);
}

namespace {

class fragile_on_restart : public courier::actor {
 public:
  using handles = courier::handles<boom>;
  explicit fragile_on_restart(std::atomic<int>* builds) {
    if (builds->fetch_add(1) > 0) throw std::runtime_error{"cannot rebuild"};
  }
  void on(const boom&) { throw std::runtime_error{"first failure"}; }
};

}  // namespace

TEST_CASE("a constructor that throws during a restart stops the actor with reason failed", "[supervision]") {
  virtual_env env;
  std::atomic<int> builds{0};
  seen log;
  auto w = env.sys.spawn<fragile_on_restart>(restart_spec(), &builds);
  auto obs = env.sys.spawn<observer>(&log, false);
  obs.send(watch{w});
  env.settle();
  w.send(boom{});
  env.settle();
  REQUIRE(log.down_count() == 1);
  CHECK(log.down_at(0).reason == exit_reason::failed);
  CHECK(log.down_at(0).what == "restart failed: cannot rebuild");
  CHECK(builds == 2);
}

TEST_CASE("shutdown during a restart backoff dead-letters the waiting mail and leaks nothing", "[supervision]") {
  std::uint64_t live = 1;
  courier::dead_letter_counts dead;
  {
    virtual_env env;
    probe p{env.sys.timers()};
    auto w = env.sys.spawn<worker>(
        supervision{.on_failure = strategy::restart_with_backoff, .backoff = {.min = 1s, .max = 1s}}, &p, 1);
    w.send(boom{});
    w.send(add{1});
    w.send(add{2});
    env.settle();
    CHECK(env.timers.pending() == 1);
    env.sys.shutdown();
    dead = env.sys.dead_letters();
    w = {};
    live = env.sys.live_actors();
  }
  CHECK(dead[dead_letter_reason::shutdown] == 2);
  CHECK(live == 0);
}

namespace {

struct tally {
  std::atomic<std::uint64_t> adds{0};
  std::atomic<std::uint64_t> builds{0};
};

class counting_worker : public courier::actor {
 public:
  using handles = courier::handles<add, boom>;
  explicit counting_worker(tally* t) : t_{t} { t_->builds.fetch_add(1); }
  void on(const add&) { t_->adds.fetch_add(1); }
  void on(const boom&) { throw std::runtime_error{"boom"}; }

 private:
  tally* t_;
};

class counting_boss : public courier::actor {
 public:
  using handles = courier::handles<report>;
  counting_boss(tally* t, int kids, supervision_group g, strategy on_failure, std::vector<courier::actor_ref>* out) {
    supervise_children(g);
    const supervision spec{.on_failure = on_failure,
                           .backoff = {.min = 10us, .max = 200us},
                           .intensity = {.max_restarts = 1'000'000}};
    for (int i = 0; i < kids; ++i) out->push_back(spawn_child<counting_worker>(spec, t));
  }
  void on(const report&) {}
};

}  // namespace

TEST_CASE("under concurrent senders and failures every message is handled or dead-lettered exactly once",
          "[supervision]") {
  COURIER_TEST_SEED(seed);
  const unsigned workers = GENERATE(1u, 2u, 4u);
  const auto group = GENERATE(supervision_group::one_for_one, supervision_group::all_for_one);
  const auto on_failure = GENERATE(strategy::restart, strategy::restart_with_backoff);
  INFO("workers " << workers << ", group " << static_cast<int>(group) << ", strategy "
                  << static_cast<int>(on_failure));
  tally t;
  std::vector<courier::actor_ref> kids;
  std::uint64_t sent_adds = 0, sent_booms = 0;
  {
    courier::system sys{{.workers = workers}};
    auto b = sys.spawn<counting_boss>(&t, 8, group, on_failure, &kids);
    REQUIRE(courier::test::wait_for([&] { return t.builds.load() == 8; }, 20s));
    std::vector<std::thread> senders;
    std::atomic<std::uint64_t> adds{0}, booms{0};
    for (unsigned s = 0; s < 3; ++s)
      senders.emplace_back([&, s] {
        courier::splitmix64 rng{seed + s};
        for (std::uint64_t i = 0; i < courier::test::scaled(20'000, 2'000); ++i) {
          const auto& k = kids[rng.below(kids.size())];
          if (rng.below(100) == 0) {
            if (k.send(boom{})) booms.fetch_add(1);
          } else if (k.send(add{1})) {
            adds.fetch_add(1);
          }
        }
      });
    for (auto& s : senders) s.join();
    // Mail may wait out a backoff, so wait for the work itself, not for an idle executor.
    REQUIRE(courier::test::wait_for([&] { return t.adds.load() == adds.load(); }, 30s));
    REQUIRE(sys.await_idle(std::chrono::seconds{30}));
    sent_adds = adds;
    sent_booms = booms;
    CHECK(sys.dead_letters()[dead_letter_reason::failed] == sent_booms);
    CHECK(t.adds.load() == sent_adds);  // nothing lost to a restart
    for (std::size_t r = 0; r < courier::dead_letter_reason_count; ++r)
      if (r != static_cast<std::size_t>(dead_letter_reason::failed))
        CHECK(sys.dead_letters().by_reason[r] == 0);
    if (group == supervision_group::one_for_one) CHECK(t.builds.load() == 8 + sent_booms);
    else CHECK(t.builds.load() >= 8 + sent_booms);
  }
}
