// Request-reply from coroutine handlers: co_await bus.co_request<R>(...).
#include <catch2/catch.hpp>

#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "bus/responders.hpp"
#include "runtime/task_support.hpp"

namespace {

using namespace std::chrono_literals;
using courier::errc;
using courier::test::answer;
using courier::test::ask;
using courier::test::doubler;
using courier::test::silent;

struct go {
  std::string subject;
  int n;
};
struct note {
  int n;
};

struct fixture : courier::test::virtual_bus {
  fixture() : virtual_bus{5} {}
};

/// What an asker saw, in order: "note N", or the outcome of a request.
struct journal {
  std::vector<std::string> lines;
  std::vector<courier::reply<answer>> replies;
  int frames = 0;  // coroutine frames alive
};

using courier::test::frame_guard;

std::string describe(const courier::reply<answer>& r) {
  return r ? "value " + std::to_string(r->n) : std::string{courier::to_string(r.error())};
}

/// Asks on `go.subject` from a coroutine handler and notes the outcome.
template <template <class> class Task>
class asker : public courier::actor {
 public:
  using handles = courier::handles<go, note>;
  asker(courier::bus* b, journal* j) : bus_{*b}, log_{*j} {}

  Task<void> on(const go& g) {
    frame_guard guard{log_.frames};
    courier::reply<answer> r = co_await bus_.co_request<answer>(g.subject, ask{g.n}, 50ms);
    log_.lines.push_back(describe(r));
    log_.replies.push_back(std::move(r));
  }
  void on(const note& n) { log_.lines.push_back("note " + std::to_string(n.n)); }

 private:
  courier::bus& bus_;
  journal& log_;
};

/// An asker that also doubles: its `ask`s wait while its `go` task is suspended.
class busy_doubler : public asker<courier::task> {
 public:
  using handles = courier::handles<go, ask>;
  using asker::asker;
  using asker::on;
  answer on(const ask& a) { return {a.n * 2}; }
};

/// Serves `ask` from a coroutine: asks "math.double" itself and adds one.
class relay : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  explicit relay(courier::bus* b) : bus_{*b} {}
  courier::task<answer> on(const ask& a) {
    courier::reply<answer> r = co_await bus_.co_request<answer>("math.double", ask{a.n}, 50ms);
    if (!r)
      throw std::runtime_error(std::string{"upstream: "} + courier::to_string(r.error()) + " " +
                               r.error_text);
    co_return answer{r->n + 1};
  }

 private:
  courier::bus& bus_;
};

using lines = std::vector<std::string>;

}  // namespace

TEST_CASE("co_request resumes the handler with the responder's value", "[bus][coroutine]") {
  fixture f;
  journal log;
  auto srv = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"math.double", 21});
  f.exec.run();
  CHECK(log.lines == lines{"value 42"});
  CHECK(f.bus.stats().requests == 1);
  CHECK(log.frames == 0);
}

TEST_CASE("co_request times out when virtual time passes the deadline", "[bus][coroutine]") {
  fixture f;
  journal log;
  auto srv = f.bus.serve<ask>("slow", f.sys.spawn<silent>());
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"slow", 1});
  f.exec.run();
  f.timers.advance(49ms);
  f.exec.run();
  CHECK(log.lines.empty());
  f.timers.advance(1ms);
  f.exec.run();
  CHECK(log.lines == lines{"timeout"});
  CHECK(f.bus.stats().request_timeouts == 1);
}

TEST_CASE("co_request with nobody serving resumes with no_responders", "[bus][coroutine]") {
  fixture f;
  journal log;
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"math.double", 1});
  a.send(note{1});
  f.exec.run();
  CHECK(log.lines == lines{"no_responders", "note 1"});
}

TEST_CASE("co_request reports a throwing responder as handler_failed with its text",
          "[bus][coroutine]") {
  fixture f;
  journal log;
  auto srv = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"math.double", -1});
  f.exec.run();
  REQUIRE(log.replies.size() == 1);
  CHECK(log.replies[0].error() == errc::handler_failed);
  CHECK(log.replies[0].error_text == "negative");
}

TEST_CASE(
    "stopping an actor suspended in co_request destroys the frame and counts the request cancelled",
    "[bus][coroutine]") {
  fixture f;
  journal log;
  auto srv = f.bus.serve<ask>("slow", f.sys.spawn<silent>());
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"slow", 1});
  f.exec.run();
  REQUIRE(log.frames == 1);
  REQUIRE(f.timers.pending() == 1);
  a.stop();
  f.exec.run();
  CHECK(log.frames == 0);
  CHECK(f.bus.stats().cancelled == 1);
  CHECK(f.timers.pending() == 0);  // the request's timer went with it
  CHECK(f.sys.dead_letters()[courier::dead_letter_reason::stopped] ==
        1);  // the `go` it was handling
  f.timers.advance(1s);
  f.exec.run();
  CHECK(f.bus.stats().request_timeouts == 0);
  CHECK(log.lines.empty());
}

TEST_CASE("a reply that arrives after its awaiting actor stopped is counted late",
          "[bus][coroutine]") {
  fixture f;
  journal busy_log, log;
  auto slow = f.bus.serve<ask>("slow", f.sys.spawn<silent>());
  // The responder is itself suspended in a task, so the request waits in its mailbox.
  auto busy = f.sys.spawn<busy_doubler>(&f.bus, &busy_log);
  auto srv = f.bus.serve<ask>("math.double", busy);
  busy.send(go{"slow", 0});
  f.exec.run();
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"math.double", 1});
  f.exec.run();
  REQUIRE(log.frames == 1);
  a.stop();
  f.exec.run();
  CHECK(f.bus.stats().cancelled == 1);
  f.timers.advance(50ms);  // the responder's own wait ends; it answers the abandoned request
  f.exec.run();
  CHECK(busy_log.lines == lines{"timeout"});
  CHECK(f.bus.stats().late_replies == 1);
  CHECK(log.lines.empty());
}

TEST_CASE("messages that arrive while a task awaits are handled after it, in order",
          "[bus][coroutine]") {
  fixture f;
  journal log;
  auto srv = f.bus.serve<ask>("slow", f.sys.spawn<silent>());
  auto a = f.sys.spawn<asker<courier::task>>(&f.bus, &log);
  a.send(go{"slow", 1});
  f.exec.run();
  for (int i = 1; i <= 3; ++i) a.send(note{i});
  f.exec.run();
  CHECK(log.lines.empty());
  f.timers.advance(50ms);
  f.exec.run();
  CHECK(log.lines == lines{"timeout", "note 1", "note 2", "note 3"});
}

TEST_CASE("a reentrant_task handler interleaves with the actor's other messages",
          "[bus][coroutine]") {
  fixture f;
  journal log;
  auto slow = f.bus.serve<ask>("slow", f.sys.spawn<silent>());
  auto fast = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto a = f.sys.spawn<asker<courier::reentrant_task>>(&f.bus, &log);
  a.send(go{"slow", 1});
  a.send(note{1});
  a.send(go{"math.double", 4});
  a.send(note{2});
  f.exec.run();
  // One turn takes all four messages; the second request's reply comes in the
  // next turn, and resumes its handler while the first still waits.
  CHECK(log.lines == lines{"note 1", "note 2", "value 8"});
  CHECK(log.frames == 1);
  f.timers.advance(50ms);
  f.exec.run();
  CHECK(log.lines == lines{"note 1", "note 2", "value 8", "timeout"});
}

TEST_CASE("a coroutine serve handler replies with its co_returned value", "[bus][coroutine]") {
  fixture f;
  auto upstream = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto srv = f.bus.serve<ask>("math.double_plus_one", f.sys.spawn<relay>(&f.bus));
  auto ok = f.bus.request<answer>("math.double_plus_one", ask{20}, 1s);
  auto failed = f.bus.request<answer>("math.double_plus_one", ask{-1}, 1s);
  f.exec.run();
  auto r = ok.get();
  REQUIRE(r);
  CHECK(r->n == 41);
  auto e = failed.get();
  CHECK(e.error() == errc::handler_failed);
  CHECK(e.error_text == "upstream: handler_failed negative");
}

namespace {

/// Counts down from the test thread's expectation; waits with a deadline.
class countdown {
 public:
  explicit countdown(int n) : left_{n} {}
  void hit() {
    std::lock_guard lock{m_};
    if (--left_ == 0) cv_.notify_all();
  }
  bool wait(std::chrono::seconds limit) {
    std::unique_lock lock{m_};
    return cv_.wait_for(lock, limit, [&] { return left_ <= 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int left_;
};

struct pool_tally {
  std::atomic<int> ok{0}, wrong{0}, overlaps{0}, out_of_order{0};
  countdown done;
  explicit pool_tally(int n) : done{n} {}
};

/// Asks several times per `go` and checks it never runs beside itself.
template <template <class> class Task>
class pool_asker : public courier::actor {
 public:
  using handles = courier::handles<go, note>;
  pool_asker(courier::bus* b, pool_tally* t) : bus_{*b}, t_{*t} {}

  Task<void> on(const go& g) {
    enter();
    for (int i = 0; i < 3; ++i) {
      leave();
      courier::reply<answer> r = co_await bus_.co_request<answer>(g.subject, ask{g.n + i}, 30s);
      enter();
      (r && r->n == 2 * (g.n + i) ? t_.ok : t_.wrong).fetch_add(1, std::memory_order_relaxed);
    }
    ++gos_done_;
    leave();
    t_.done.hit();
  }
  void on(const note& n) {
    enter();
    if (n.n != next_note_++) t_.out_of_order.fetch_add(1, std::memory_order_relaxed);
    // A plain task holds the mailbox: note k, sent after go k, runs after go k ends.
    if (holds_mailbox && gos_done_ != n.n + 1)
      t_.out_of_order.fetch_add(1, std::memory_order_relaxed);
    leave();
    t_.done.hit();
  }

 private:
  void enter() {
    if (inside_.exchange(true, std::memory_order_acq_rel))
      t_.overlaps.fetch_add(1, std::memory_order_relaxed);
  }
  void leave() { inside_.store(false, std::memory_order_release); }

  courier::bus& bus_;
  pool_tally& t_;
  static constexpr bool holds_mailbox = std::is_same_v<Task<void>, courier::task<void>>;
  std::atomic<bool> inside_{false};
  int next_note_ = 0;
  int gos_done_ = 0;
};

template <template <class> class Task>
void run_on_pool(unsigned workers) {
  constexpr int askers = 8, gos = 20, notes = 20;
  courier::system sys{{.workers = workers}};
  courier::bus bus{sys};
  std::vector<courier::subscription> servers;
  for (int i = 0; i < 3; ++i)
    servers.push_back(bus.serve<ask>("math.double", sys.spawn<doubler>()).value());
  pool_tally t{askers * (gos + notes)};
  std::vector<courier::actor_ref> refs;
  for (int i = 0; i < askers; ++i) refs.push_back(sys.spawn<pool_asker<Task>>(&bus, &t));
  for (int k = 0; k < gos; ++k)
    for (auto& r : refs) {
      r.send(go{"math.double", k * 10});
      r.send(note{k});
    }
  REQUIRE(t.done.wait(60s));
  CHECK(t.ok.load() == askers * gos * 3);
  CHECK(t.wrong.load() == 0);
  CHECK(t.overlaps.load() == 0);
  CHECK(t.out_of_order.load() == 0);
  CHECK(bus.stats().requests == static_cast<std::uint64_t>(askers * gos * 3));
  CHECK(bus.stats().cancelled == 0);
}

}  // namespace

TEST_CASE(
    "co_request on a thread_pool answers every request and runs each actor on one thread at a time",
    "[bus][coroutine]") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  INFO("workers " << workers);
  SECTION("task: notes wait for the go before them") { run_on_pool<courier::task>(workers); }
  SECTION("reentrant_task") { run_on_pool<courier::reentrant_task>(workers); }
}
