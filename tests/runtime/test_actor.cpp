#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/system.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using courier::dead_letter_reason;
using courier::test::in;

namespace {

struct note {
  int n = 0;
};
struct stranger {};
struct quit {};
struct boom {};

// Collects dead letters; usable from any thread.
struct letter_box {
  std::mutex mutex;
  std::vector<courier::dead_letter> letters;

  courier::dead_letter_sink sink() {
    return [this](const courier::dead_letter& d) {
      std::lock_guard lock{mutex};
      letters.push_back(d);
    };
  }
  std::vector<courier::dead_letter> take() {
    std::lock_guard lock{mutex};
    return std::move(letters);
  }
};

struct journal {
  std::vector<int> notes;
  int destroyed = 0;
};

class scribe : public courier::actor {
 public:
  using handles = courier::handles<note, quit, boom>;
  explicit scribe(journal* j) : j_{j} {}
  ~scribe() { ++j_->destroyed; }

  void on(const note& m) { j_->notes.push_back(m.n); }
  void on(const quit&) { stop(); }
  void on(const boom&) { throw std::runtime_error{"boom"}; }

 private:
  journal* j_;
};

}  // namespace

TEST_CASE("a message of a type the actor does not handle is dead-lettered as unhandled to that actor") {
  letter_box box;
  journal j;
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.exec = &manual, .on_dead_letter = box.sink()}};
  auto ref = sys.spawn<scribe>(&j);

  CHECK(ref.send(stranger{}));
  CHECK(ref.send(note{1}));
  manual.run();

  auto letters = box.take();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == dead_letter_reason::unhandled);
  CHECK(letters[0].receiver == ref);
  REQUIRE(letters[0].msg);
  CHECK(letters[0].msg->type() == courier::type_id_of<stranger>());
  CHECK(sys.dead_letters()[dead_letter_reason::unhandled] == 1);
  CHECK(sys.dead_letters().total() == 1);
  // The actor keeps running after an unhandled message.
  CHECK(j.notes == std::vector<int>{1});
}

TEST_CASE("sending to a stopped actor returns false and counts a dead letter with reason stopped") {
  letter_box box;
  journal j;
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.exec = &manual, .on_dead_letter = box.sink()}};
  auto ref = sys.spawn<scribe>(&j);

  ref.stop();
  manual.run();
  CHECK(j.destroyed == 1);
  CHECK_FALSE(ref.send(note{1}));
  CHECK(sys.dead_letters()[dead_letter_reason::stopped] == 1);
  CHECK(sys.dead_letters().total() == 1);
  auto letters = box.take();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == dead_letter_reason::stopped);
  CHECK(letters[0].receiver == ref);
  CHECK(j.notes.empty());
  CHECK_FALSE(courier::actor_ref{}.send(note{2}));
}

TEST_CASE("messages queued when stop() is requested are dead-lettered as stopped, not handled") {
  journal j;
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.exec = &manual}};
  auto ref = sys.spawn<scribe>(&j);
  for (int i = 0; i < 3; ++i) CHECK(ref.send(note{i}));
  ref.stop();
  manual.run();
  CHECK(j.notes.empty());
  CHECK(j.destroyed == 1);
  CHECK(sys.dead_letters()[dead_letter_reason::stopped] == 3);
  CHECK(sys.dead_letters().total() == 3);
}

TEST_CASE("an actor that calls stop() in a handler handles nothing after that handler") {
  journal j;
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.exec = &manual}};
  auto ref = sys.spawn<scribe>(&j);
  CHECK(ref.send(note{1}));
  CHECK(ref.send(quit{}));
  CHECK(ref.send(note{2}));
  CHECK(ref.send(note{3}));
  manual.run();
  CHECK(j.notes == std::vector<int>{1});
  CHECK(j.destroyed == 1);
  CHECK(sys.dead_letters()[dead_letter_reason::stopped] == 2);
  CHECK_FALSE(ref.send(note{4}));
  CHECK(sys.dead_letters()[dead_letter_reason::stopped] == 3);
  CHECK(sys.dead_letters().total() == 3);
}

TEST_CASE("a handler that throws dead-letters its message as failed and stops only that actor") {
  letter_box box;
  journal j, other;
  const unsigned workers = GENERATE(0u, 2u);  // 0: manual executor
  CAPTURE(workers);
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.workers = workers,
                       .exec = workers == 0 ? &manual : nullptr,
                       .on_dead_letter = box.sink()}};
  auto ref = sys.spawn<scribe>(&j);
  auto bystander = sys.spawn<scribe>(&other);
  CHECK(ref.send(note{1}));
  CHECK(ref.send(boom{}));
  // On the pool the actor may already have failed and stopped: then send()
  // refuses the note at once. Queued or refused, it is dead-lettered as stopped.
  const bool queued = ref.send(note{2});
  CHECK((queued || workers != 0));
  CHECK(bystander.send(note{5}));
  manual.run();
  REQUIRE(sys.await_idle(in(30s)));

  CHECK(j.notes == std::vector<int>{1});
  CHECK(j.destroyed == 1);
  CHECK(sys.dead_letters()[dead_letter_reason::failed] == 1);
  CHECK(sys.dead_letters()[dead_letter_reason::stopped] == 1);
  CHECK(sys.dead_letters().total() == 2);
  auto letters = box.take();
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].reason == dead_letter_reason::failed);
  CHECK(letters[0].receiver == ref);
  REQUIRE(letters[0].msg);
  CHECK(letters[0].msg->type() == courier::type_id_of<boom>());
  CHECK(letters[1].reason == dead_letter_reason::stopped);
  CHECK_FALSE(ref.send(note{3}));

  CHECK(bystander.send(note{6}));
  manual.run();
  REQUIRE(sys.await_idle(in(30s)));
  CHECK(other.notes == std::vector<int>{5, 6});
  CHECK(other.destroyed == 0);
}

namespace {

struct payload {
  static inline std::atomic<int> copies{0};
  static inline std::atomic<int> alive{0};
  payload() { alive.fetch_add(1); }
  payload(const payload&) {
    copies.fetch_add(1);
    alive.fetch_add(1);
  }
  payload(payload&&) noexcept { alive.fetch_add(1); }
  payload& operator=(const payload&) = delete;
  ~payload() { alive.fetch_sub(1); }
};

struct sightings {
  std::mutex mutex;
  std::vector<const payload*> seen;
};

class reader : public courier::actor {
 public:
  using handles = courier::handles<payload>;
  explicit reader(sightings* s) : s_{s} {}
  void on(const payload& p) {
    std::lock_guard lock{s_->mutex};
    s_->seen.push_back(&p);
  }

 private:
  sightings* s_;
};

}  // namespace

TEST_CASE("a message's built-in hook serves its first mailbox only, once") {
  auto msg = courier::make_message<note>(note{1});
  courier::mail_hook* first = msg->claim_hook();
  CHECK(first == &msg->own_hook());
  CHECK(first->msg() == msg.get());
  CHECK(msg->claim_hook() == nullptr);  // every later push needs a mail_node
  CHECK(msg->claim_hook() == nullptr);
}

namespace {
/// Refuses the notes it carries whose number is odd, and logs what the turn asked.
struct odd_screen final : courier::mail_node {
  odd_screen(courier::message* m, std::vector<std::string>& log) : mail_node{m}, log_{log} { screens = true; }
  bool accept() noexcept override {
    log_.push_back("accept " + std::to_string(msg()->as<note>().n));
    return msg()->as<note>().n % 2 == 0;
  }
  void prepare() noexcept override { log_.push_back("prepare " + std::to_string(msg()->as<note>().n)); }
  void done() noexcept override { log_.push_back("done " + std::to_string(msg()->as<note>().n)); }
  std::vector<std::string>& log_;
};
}  // namespace

TEST_CASE("a screening mail node is asked before the handler, and a refused message is never handled") {
  journal j;
  std::vector<std::string> log;
  courier::manual_executor exec{{.seed = 3}};
  courier::system sys{{.exec = &exec}};
  auto ref = sys.spawn<scribe>(&j);
  for (int n = 1; n <= 3; ++n) CHECK(ref.send_node(new odd_screen(courier::make_message<note>(note{n}).get(), log)));
  CHECK(ref.send(note{4}));  // through its own hook: not screened
  exec.run();
  CHECK(j.notes == std::vector<int>{2, 4});
  // Each screened node prepares the next screened one before it is asked.
  CHECK(log == std::vector<std::string>{"prepare 2", "accept 1", "done 1", "prepare 3", "accept 2", "done 2",
                                        "accept 3", "done 3"});
  CHECK(sys.dead_letters().total() == 0);  // a refused message is discarded, not dead-lettered
}

TEST_CASE("a message sent with send_shared to many actors is shared by all of them, never copied") {
  payload::copies = 0;
  payload::alive = 0;
  sightings s;
  constexpr int readers = 100;
  {
    courier::system sys{{.workers = 2}};
    std::vector<courier::actor_ref> refs;
    for (int i = 0; i < readers; ++i) refs.push_back(sys.spawn<reader>(&s));
    auto msg = courier::make_message<payload>();
    const payload* original = &msg->as<payload>();
    for (auto& r : refs) CHECK(r.send_shared(msg));
    msg = {};  // the receivers hold the last references
    REQUIRE(sys.await_idle(in(30s)));

    REQUIRE(s.seen.size() == readers);
    for (auto* p : s.seen) CHECK(p == original);
    CHECK(payload::copies.load() == 0);
    CHECK(payload::alive.load() == 0);  // the last receiver freed it

    CHECK(refs[0].send(payload{}));  // moved into the message, not copied
    REQUIRE(sys.await_idle(in(30s)));
    CHECK(payload::copies.load() == 0);
  }
  CHECK(payload::alive.load() == 0);
}

namespace {

struct turn_log {
  std::size_t turn = 0;
  std::vector<std::pair<int, std::size_t>> entries;  // (actor, turn)
};

class turn_taker : public courier::actor {
 public:
  using handles = courier::handles<note>;
  turn_taker(turn_log* log, int id) : log_{log}, id_{id} {}
  void on(const note&) { log_->entries.emplace_back(id_, log_->turn); }

 private:
  turn_log* log_;
  int id_;
};

}  // namespace

TEST_CASE("with throughput 4 an actor handles at most 4 messages per turn and then lets others run") {
  COURIER_TEST_SEED(seed);
  turn_log log;
  courier::manual_executor manual{{.seed = seed}};
  courier::system sys{{.throughput = 4, .exec = &manual}};
  auto a = sys.spawn<turn_taker>(&log, 0);
  auto b = sys.spawn<turn_taker>(&log, 1);
  for (int i = 0; i < 10; ++i) {
    CHECK(a.send(note{i}));
    CHECK(b.send(note{i}));
  }
  while (manual.run_one()) ++log.turn;

  REQUIRE(log.entries.size() == 20);
  std::vector<std::vector<int>> by_turn(log.turn);
  for (auto [actor, turn] : log.entries) by_turn[turn].push_back(actor);
  // Each actor has 10 messages, so it needs turns of 4, 4 and 2, and no turn
  // mixes the two actors.
  std::vector<std::size_t> sizes_a, sizes_b;
  for (auto& t : by_turn) {
    CHECK(t.size() <= 4);
    if (t.empty()) continue;
    CHECK(std::count(t.begin(), t.end(), t.front()) == static_cast<long>(t.size()));
    (t.front() == 0 ? sizes_a : sizes_b).push_back(t.size());
  }
  CHECK(sizes_a == std::vector<std::size_t>{4, 4, 2});
  CHECK(sizes_b == std::vector<std::size_t>{4, 4, 2});
}

namespace {

struct instance_counter {
  static inline int alive = 0;
  instance_counter() { ++alive; }
  instance_counter(const instance_counter&) = delete;
  ~instance_counter() { --alive; }
};

class fragile : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit fragile(bool fail) {
    if (fail) throw std::runtime_error{"constructor failed"};
  }
  void on(const note&) {}

 private:
  instance_counter member_;
};

class fragile_after_send : public courier::actor {
 public:
  using handles = courier::handles<note>;
  fragile_after_send() {
    self().send(note{1});
    throw std::runtime_error{"constructor failed after sending to itself"};
  }
  void on(const note&) {}
};

// An executor that only records what is scheduled; nothing ever runs.
struct recording_executor final : courier::executor {
  std::vector<courier::runnable*> queued;
  void schedule(courier::runnable* r) noexcept override { queued.push_back(r); }
  bool wait_idle(std::chrono::steady_clock::time_point) override { return queued.empty(); }
  void shutdown() noexcept override {}
  [[nodiscard]] unsigned concurrency() const noexcept override { return 1; }
};

}  // namespace

TEST_CASE("an exception from an actor's constructor reaches the caller of spawn and leaks nothing") {
  instance_counter::alive = 0;
  courier::manual_executor manual{{.seed = 7}};
  courier::system sys{{.exec = &manual}};
  CHECK_THROWS_AS(sys.spawn<fragile>(true), std::runtime_error);
  CHECK(instance_counter::alive == 0);
  CHECK(sys.live_actors() == 0);
  CHECK(sys.spawned() == 0);
  CHECK(manual.ready() == 0);
  {
    auto ok = sys.spawn<fragile>(false);
    CHECK(instance_counter::alive == 1);
    CHECK(sys.live_actors() == 1);
    ok.stop();
    manual.run();
    CHECK(instance_counter::alive == 0);
  }
  CHECK(sys.live_actors() == 0);
}

TEST_CASE("a constructor that sends to its own actor and then throws leaves nothing scheduled") {
  // The message must be dead-lettered, and the executor must not be left
  // holding a turn of a cell that spawn() already freed.
  recording_executor exec;
  courier::system sys{{.exec = &exec}};
  CHECK_THROWS_AS(sys.spawn<fragile_after_send>(), std::runtime_error);
  CHECK(sys.live_actors() == 0);
  CHECK(sys.dead_letters().total() == 1);
  REQUIRE(exec.queued.empty());  // running a stale entry would be a use after free
}

namespace {

struct child_report {
  int greetings = 0;
  courier::actor_ref parent_seen;
};

class child : public courier::actor {
 public:
  using handles = courier::handles<note>;
  child(child_report* r, courier::actor_ref parent) : r_{r}, parent_{std::move(parent)} {}
  void on(const note&) {
    ++r_->greetings;
    r_->parent_seen = parent_;
    stop();
  }

 private:
  child_report* r_;
  courier::actor_ref parent_;
};

class parent : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit parent(child_report* r) : r_{r} {}
  void on(const note&) {
    auto c = spawn<child>(r_, self());
    c.send(note{});
    stop();
  }

 private:
  child_report* r_;
};

}  // namespace

TEST_CASE("an actor can spawn a child from a handler and hand it its own ref") {
  child_report report;
  courier::manual_executor manual{{.seed = 3}};
  courier::system sys{{.exec = &manual}};
  auto p = sys.spawn<parent>(&report);
  CHECK(p.send(note{}));
  manual.run();
  CHECK(report.greetings == 1);
  CHECK(report.parent_seen == p);
  CHECK(sys.spawned() == 2);
  report.parent_seen = {};
  p = {};
  CHECK(sys.live_actors() == 0);
}

namespace {

struct stamped {
  std::uint32_t round;
  bool relayed;
};
struct relay {
  std::uint32_t round;
};

struct order_report {
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> inversions{0};
};

class order_checker : public courier::actor {
 public:
  using handles = courier::handles<stamped>;
  explicit order_checker(order_report* r) : r_{r} {}
  void on(const stamped& m) {
    // Round r's direct message must come before round r's relayed one.
    if (m.relayed ? direct_seen_ <= m.round : direct_seen_ != m.round) r_->inversions.fetch_add(1);
    if (!m.relayed) direct_seen_ = m.round + 1;
    r_->handled.fetch_add(1, std::memory_order_release);
  }

 private:
  order_report* r_;
  std::uint32_t direct_seen_ = 0;
};

class relayer : public courier::actor {
 public:
  using handles = courier::handles<relay>;
  explicit relayer(courier::actor_ref to) : to_{std::move(to)} {}
  void on(const relay& m) { to_.send(stamped{m.round, true}); }

 private:
  courier::actor_ref to_;
};

}  // namespace

TEST_CASE("a send that happens after another send to the same actor is handled after it") {
  // main sends round r to the checker, then asks the relayer to send round r
  // too; the relayed message is ordered after main's by happens-before.
  const unsigned workers = GENERATE(1u, 2u, 4u);
  CAPTURE(workers);
  order_report report;
  courier::system sys{{.workers = workers}};
  auto checker = sys.spawn<order_checker>(&report);
  auto relay_ref = sys.spawn<relayer>(checker);
  constexpr std::uint32_t rounds = 20'000;
  for (std::uint32_t r = 0; r < rounds; ++r) {
    REQUIRE(checker.send(stamped{r, false}));
    REQUIRE(relay_ref.send(relay{r}));
  }
  CHECK(courier::test::wait_for(
      [&] { return report.handled.load(std::memory_order_acquire) == 2 * rounds; }, 60s));
  CHECK(sys.await_idle(in(30s)));
  CHECK(report.inversions.load() == 0);
  CHECK(report.handled.load() == 2 * rounds);
}

TEST_CASE("a system with its own thread pool and timers starts and shuts down") {
  courier::system sys{{.workers = 1}};
  CHECK(sys.exec().concurrency() == 1);
  sys.shutdown();
  CHECK(sys.live_actors() == 0);
}

TEST_CASE("a system rejects a throughput of zero at construction") {
  courier::manual_executor manual;
  CHECK_THROWS_AS((courier::system{{.throughput = 0, .exec = &manual}}), std::invalid_argument);
}
