// Coroutine handlers at the runtime level: an awaitable built on courier::waker,
// completed by the test, on the deterministic executor.
#include <catch2/catch.hpp>

#include <coroutine>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/supervision.hpp"
#include "courier/runtime/system.hpp"
#include "courier/runtime/task.hpp"

#include "task_support.hpp"

namespace {

using courier::dead_letter_reason;

/// A one-shot value the test hands to a suspended handler.
struct gate {
  std::optional<int> value;
  courier::waker resume;
  bool awaited = false;

  void open(int v) {
    value = v;
    resume.wake();
  }
  struct awaiter {
    gate& g;
    bool await_ready() const noexcept { return g.value.has_value(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      g.awaited = true;
      g.resume = h.promise().suspend();
    }
    int await_resume() const noexcept { return *g.value; }
  };
  awaiter operator co_await() noexcept { return {*this}; }
};

struct wait_gate {
  bool fail_before = false;
  bool fail_after = false;
};
struct note {
  int n;
};

using courier::test::frame_guard;

struct log_t {
  std::vector<std::string> lines;
  int frames = 0;
  int built = 0;
};

template <template <class> class Task>
class waiter : public courier::actor {
 public:
  using handles = courier::handles<wait_gate, note>;
  waiter(gate* g, log_t* log) : gate_{*g}, log_{*log} { ++log_.built; }

  Task<void> on(const wait_gate& w) {
    frame_guard guard{log_.frames};
    if (w.fail_before) throw std::runtime_error("before the await");
    log_.lines.push_back("begin");
    const int v = co_await gate_;
    if (w.fail_after) throw std::runtime_error("after the await");
    log_.lines.push_back("end " + std::to_string(v));
  }
  void on(const note& n) { log_.lines.push_back("note " + std::to_string(n.n)); }

 private:
  gate& gate_;
  log_t& log_;
};

class never_woken : public courier::actor {
 public:
  using handles = courier::handles<note>;
  courier::task<> on(const note&) { co_await std::suspend_always{}; }
};

struct fixture {
  courier::manual_executor exec{{.seed = 3}};
  courier::system sys{{.exec = &exec}};
  gate g;
  log_t log;
};

using lines = std::vector<std::string>;

}  // namespace

/// Spawns a waiter, sends it a wait_gate and two notes, and runs what is ready.
template <template <class> class Task>
courier::actor_ref wait_then_notes(fixture& f) {
  auto a = f.sys.spawn<waiter<Task>>(&f.g, &f.log);
  a.send(wait_gate{});
  a.send(note{1});
  a.send(note{2});
  f.exec.run();
  return a;
}

TEST_CASE("a suspended task holds its actor's other messages, then they run in order", "[task]") {
  fixture f;
  auto a = wait_then_notes<courier::task>(f);
  CHECK(f.log.lines == lines{"begin"});
  CHECK(f.exec.ready() == 0);  // nothing spins while it waits
  f.g.open(7);
  f.exec.run();
  CHECK(f.log.lines == lines{"begin", "end 7", "note 1", "note 2"});
  CHECK(f.log.frames == 0);
}

TEST_CASE("a reentrant_task lets the actor handle other messages while it waits", "[task]") {
  fixture f;
  auto a = wait_then_notes<courier::reentrant_task>(f);
  CHECK(f.log.lines == lines{"begin", "note 1", "note 2"});
  f.g.open(3);
  f.exec.run();
  CHECK(f.log.lines == lines{"begin", "note 1", "note 2", "end 3"});
  CHECK(f.log.frames == 0);
}

TEST_CASE("a task that throws before its first co_await goes to supervision", "[task]") {
  fixture f;
  auto a = f.sys.spawn<waiter<courier::task>>(&f.g, &f.log);
  a.send(wait_gate{.fail_before = true});
  f.exec.run();
  CHECK(f.sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK_FALSE(a.send(note{1}));  // stopped: an unsupervised actor stops on failure
  CHECK(f.log.frames == 0);
}

TEST_CASE("a task that throws after a co_await is restarted by its supervisor", "[task]") {
  fixture f;
  auto a = f.sys.spawn<waiter<courier::task>>(
      courier::supervision{.on_failure = courier::strategy::restart}, &f.g, &f.log);
  a.send(wait_gate{.fail_after = true});
  a.send(note{1});
  f.exec.run();
  f.g.open(1);
  f.exec.run();
  CHECK(f.sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK(f.log.built == 2);
  CHECK(f.log.lines == lines{"begin", "note 1"});  // the held note runs on the fresh instance
  CHECK(f.log.frames == 0);
}

TEST_CASE(
    "stopping an actor destroys its suspended task and dead-letters what it and the mailbox held",
    "[task]") {
  fixture f;
  auto a = f.sys.spawn<waiter<courier::task>>(&f.g, &f.log);
  a.send(wait_gate{});
  a.send(note{1});
  f.exec.run();
  REQUIRE(f.log.frames == 1);
  a.stop();
  f.exec.run();
  CHECK(f.log.frames == 0);
  CHECK(f.sys.dead_letters()[dead_letter_reason::stopped] == 2);
  f.g.open(5);  // a wake for a dropped frame resumes nothing
  f.exec.run();
  CHECK(f.log.lines == lines{"begin"});
}

TEST_CASE("a restart drops the suspended tasks of the old instance", "[task]") {
  fixture f;
  auto a = f.sys.spawn<waiter<courier::reentrant_task>>(
      courier::supervision{.on_failure = courier::strategy::restart}, &f.g, &f.log);
  a.send(wait_gate{});                     // suspends on f.g
  a.send(wait_gate{.fail_before = true});  // fails: the restart drops the first frame
  f.exec.run();
  CHECK(f.log.built == 2);
  CHECK(f.log.frames == 0);
  CHECK(f.sys.dead_letters()[dead_letter_reason::stopped] == 1);
  f.g.open(1);
  f.exec.run();
  CHECK(f.log.lines == lines{"begin"});
}

TEST_CASE("a handler coroutine suspended without a waker fails instead of hanging", "[task]") {
  fixture f;
  auto a = f.sys.spawn<never_woken>();
  a.send(note{1});
  f.exec.run();
  CHECK(f.sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK_FALSE(a.send(note{2}));
}
