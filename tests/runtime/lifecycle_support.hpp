#pragma once

// Environments and actors shared by the supervision and monitor tests. Each
// test body is a template over an environment, so the same assertions run on
// the deterministic executor with virtual time and on a thread_pool with
// real time (short durations, waiting on conditions with deadlines).

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/clock.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/monitor.hpp"
#include "courier/runtime/system.hpp"
#include "courier/runtime/timers.hpp"
#include "test_support.hpp"

namespace courier::test {

/// manual_executor + virtual clock: nothing runs or ticks unless the test says so.
struct virtual_env {
  static constexpr bool virtual_time = true;
  static constexpr const char* name = "manual_executor, virtual time";
  manual_executor manual{{.seed = 11}};
  virtual_clock clock;
  virtual_timers timers{clock};
  system sys{{.exec = &manual, .timers = &timers}};

  /// Runs ready actors, then fires the next timer, until `pred` holds or
  /// nothing is left to do.
  template <class Pred>
  bool until(Pred&& pred) {
    for (int i = 0; i < 100'000; ++i) {
      manual.run();
      if (pred()) return true;
      if (!timers.advance_to_next()) return false;
    }
    return false;
  }
  /// Lets everything ready run (time does not move).
  void settle() { manual.run(); }
};

/// thread_pool + real time, with durations short enough for a test.
struct real_env {
  static constexpr bool virtual_time = false;
  static constexpr const char* name = "thread_pool, real time";
  system sys{{.workers = 2}};

  template <class Pred>
  bool until(Pred&& pred) {
    return wait_for(std::forward<Pred>(pred), std::chrono::seconds{20});
  }
  void settle() { sys.await_idle(std::chrono::seconds{20}); }
};

struct add {
  int n = 0;
};
struct boom {};
struct report {};

/// What the actors under test did, recorded from any thread.
struct probe {
  explicit probe(const timer_service& t) : timers{&t} {}

  void built(int id) {
    std::lock_guard lock{mutex};
    ++builds[id];
    built_at[id].push_back(timers->now());
  }
  void failed(int id) {
    std::lock_guard lock{mutex};
    failed_at[id].push_back(timers->now());
  }
  void reported(int id, long sum) {
    std::lock_guard lock{mutex};
    sums[id] = sum;
    ++reports;
  }
  int builds_of(int id) {
    std::lock_guard lock{mutex};
    return builds[id];
  }
  long sum_of(int id) {
    std::lock_guard lock{mutex};
    return sums.count(id) ? sums[id] : -1;
  }
  int report_count() {
    std::lock_guard lock{mutex};
    return reports;
  }
  std::vector<time_point> built_times(int id) {
    std::lock_guard lock{mutex};
    return built_at[id];
  }
  std::vector<time_point> failed_times(int id) {
    std::lock_guard lock{mutex};
    return failed_at[id];
  }
  void set_kids(std::vector<actor_ref> k) {
    std::lock_guard lock{mutex};
    kids = std::move(k);
  }
  std::vector<actor_ref> current_kids() {
    std::lock_guard lock{mutex};
    return kids;
  }

  const timer_service* timers;
  std::mutex mutex;
  std::map<int, int> builds;
  std::map<int, long> sums;
  std::map<int, std::vector<time_point>> built_at, failed_at;
  std::vector<actor_ref> kids;
  int reports = 0;
};

/// Adds numbers; throws on `boom`; reports its sum. Each instance starts at 0.
class worker : public actor {
 public:
  using handles = courier::handles<add, boom, report>;
  worker(probe* p, int id) : p_{p}, id_{id} { p_->built(id_); }
  void on(const add& a) { sum_ += a.n; }
  void on(const boom&) {
    p_->failed(id_);
    throw std::runtime_error{"boom in worker " + std::to_string(id_)};
  }
  void on(const report&) { p_->reported(id_, sum_); }

 private:
  probe* p_;
  int id_;
  long sum_ = 0;
};

/// Supervises `kids` workers (ids 0..kids-1) under one spec and group; its
/// own id in the probe is 100. Publishes its children's refs on every build.
class boss : public actor {
 public:
  using handles = courier::handles<report>;
  boss(probe* p, int kids, supervision spec, supervision_group group) : p_{p} {
    supervise_children(group);
    std::vector<actor_ref> refs;
    for (int i = 0; i < kids; ++i) refs.push_back(spawn_child<worker>(spec, p, i));
    p_->set_kids(std::move(refs));
    p_->built(100);
  }
  void on(const report&) { p_->reported(100, 0); }

 private:
  probe* p_;
};

struct quit {};
struct watch {
  courier::actor_ref who;
};
struct unwatch {
  courier::actor_ref who;
};
struct link_to {
  courier::actor_ref who;
};
struct spawn_kid {};

// What an observer saw, from any thread.
struct seen {
  std::mutex mutex;
  std::vector<courier::down> downs;
  std::vector<courier::exit_signal> exits;
  std::vector<courier::actor_ref> kids;
  bool demonitored = false;
  std::size_t down_count() {
    std::lock_guard lock{mutex};
    return downs.size();
  }
  std::size_t exit_count() {
    std::lock_guard lock{mutex};
    return exits.size();
  }
  courier::down down_at(std::size_t i) {
    std::lock_guard lock{mutex};
    return downs.at(i);
  }
  courier::exit_signal exit_at(std::size_t i) {
    std::lock_guard lock{mutex};
    return exits.at(i);
  }
};

// Monitors, links and spawns on request; records downs and exit signals.
class observer : public courier::actor {
 public:
  using handles = courier::handles<watch, unwatch, link_to, spawn_kid, quit, boom, courier::down,
                                   courier::exit_signal>;
  observer(seen* s, bool trap) : s_{s} { trap_exit(trap); }
  void on(const watch& w) { ids_.push_back(monitor(w.who)); }
  void on(const unwatch& w) {
    for (auto& id : ids_)
      if (id.target == w.who) {
        std::lock_guard lock{s_->mutex};
        s_->demonitored = demonitor(id);
      }
  }
  void on(const link_to& l) { link(l.who); }
  void on(const spawn_kid&) {
    auto kid = spawn_child<observer>(supervision{.on_failure = strategy::stop}, s_, false);
    std::lock_guard lock{s_->mutex};
    s_->kids.push_back(kid);
  }
  void on(const quit&) { stop(); }
  void on(const boom&) { throw std::runtime_error{"observer failed"}; }
  void on(const courier::down& d) {
    std::lock_guard lock{s_->mutex};
    s_->downs.push_back(d);
  }
  void on(const courier::exit_signal& e) {
    std::lock_guard lock{s_->mutex};
    s_->exits.push_back(e);
  }

 private:
  seen* s_;
  std::vector<courier::monitor_id> ids_;
};

}  // namespace courier::test
