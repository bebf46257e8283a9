#include <courier/runtime/delayed.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "sim/sim_support.hpp"

namespace {

using namespace courier;
using namespace std::chrono_literals;

struct tick {
  int n;
};
struct note {
  int n;
};

/// Logs the virtual time of every message it gets.
class clocked : public actor {
 public:
  using handles = courier::handles<tick, note>;
  clocked(sim::world& w, std::vector<std::pair<int, duration>>& log) : world_{w}, log_{log} {}
  void on(const tick& t) { log_.emplace_back(t.n, world_.elapsed()); }
  void on(const note& n) { log_.emplace_back(n.n, world_.elapsed()); }

 private:
  sim::world& world_;
  std::vector<std::pair<int, duration>>& log_;
};

/// A chatty little model: publishers and subscribers whose interleaving depends on the seed.
std::uint64_t chatter_hash(std::uint64_t seed, std::vector<int>* order = nullptr) {
  sim::world w{{.seed = seed}};
  std::vector<std::pair<int, duration>> log;
  std::vector<actor_ref> actors;
  std::vector<subscription> subs;
  for (int i = 0; i < 4; ++i) {
    actors.push_back(w.sys().spawn<clocked>(w, log));
    subs.push_back(std::move(w.bus().subscribe<note>("chat.>", actors.back()).value()));
  }
  for (int i = 0; i < 20; ++i) {
    actors[static_cast<std::size_t>(i % 4)].send(tick{i});
    (void)w.bus().publish("chat.room", note{100 + i});
    send_after(w.sys().timers(), actors[0], std::chrono::milliseconds{i % 3}, tick{200 + i});
  }
  w.run();
  if (order != nullptr)
    for (auto& [n, t] : log) order->push_back(n);
  return w.trace_hash();
}

}  // namespace

TEST_CASE("a world runs timers in virtual time, only when no actor is ready", "[sim]") {
  sim::world w{{.seed = 1}};
  std::vector<std::pair<int, duration>> log;
  auto a = w.sys().spawn<clocked>(w, log);
  send_after(w.sys().timers(), a, 5s, tick{2});
  send_after(w.sys().timers(), a, 1s, tick{1});
  a.send(tick{0});
  CHECK_FALSE(w.idle());
  CHECK(w.run_until(w.now() + 2s) > 0);
  REQUIRE(log.size() == 2);
  CHECK(log[0] == std::pair{0, duration{0}});
  CHECK(log[1] == std::pair<int, duration>{1, 1s});
  CHECK(w.elapsed() == 2s);  // run_until leaves the clock at the target
  w.run_for(10s);
  REQUIRE(log.size() == 3);
  CHECK(log[2] == std::pair<int, duration>{2, 5s});
  CHECK(w.elapsed() == 12s);
  CHECK(w.idle());
  CHECK_FALSE(w.step());
}

TEST_CASE("run_until a predicate stops as soon as it holds, or when the world is idle", "[sim]") {
  sim::world w{{.seed = 3}};
  std::vector<std::pair<int, duration>> log;
  auto a = w.sys().spawn<clocked>(w, log);
  for (int i = 1; i <= 5; ++i) send_after(w.sys().timers(), a, std::chrono::seconds{i}, tick{i});
  CHECK(w.run_until([&] { return log.size() == 3; }));
  CHECK(log.size() == 3);
  CHECK(w.elapsed() == 3s);
  CHECK(w.run_until([&] { return log.size() == 3; }, w.now() - 1s));  // already holds
  CHECK_FALSE(w.run_until([&] { return log.size() == 10; }, w.now() + 1s));
  CHECK(log.size() == 4);  // the timer at 5 s lies beyond the limit
  CHECK_FALSE(w.run_until([&] { return log.size() == 10; }));
  CHECK(w.idle());
}

TEST_CASE("the same seed gives the same run and trace hash, another seed another", "[sim]") {
  std::vector<int> first, again, other;
  const auto h1 = chatter_hash(7, &first);
  const auto h2 = chatter_hash(7, &again);
  const auto h3 = chatter_hash(8, &other);
  CHECK(first == again);
  CHECK(h1 == h2);
  CHECK(first != other);
  CHECK(h1 != h3);
  CHECK(first.size() == 120);
}

namespace {

struct spin_again {};

/// Sends itself another message on every turn, forever (until `turns` reaches a limit).
class spinner : public actor {
 public:
  using handles = courier::handles<spin_again>;
  spinner(int& turns, int limit) : turns_{turns}, limit_{limit} {}
  void on(const spin_again&) {
    if (++turns_ < limit_) self().send(spin_again{});
  }

 private:
  int& turns_;
  int limit_;
};

/// Notes how many turns the spinner had taken when its one message arrived.
class waiter : public actor {
 public:
  using handles = courier::handles<note>;
  waiter(const int& spinner_turns, std::vector<int>& seen_at) : spinner_turns_{spinner_turns}, seen_at_{seen_at} {}
  void on(const note&) { seen_at_.push_back(spinner_turns_); }

 private:
  const int& spinner_turns_;
  std::vector<int>& seen_at_;
};

/// The spinner's turn count at which each of 8 waiters got its message, under `order` and `seed`.
std::vector<int> waits(sim::schedule order, std::uint64_t seed) {
  sim::world w{{.seed = seed, .schedule = order, .throughput = 1}};
  int turns = 0;
  std::vector<int> seen_at;
  auto spin = w.sys().spawn<spinner>(turns, 1000);
  spin.send(spin_again{});
  std::vector<actor_ref> waiters;
  for (int i = 0; i < 8; ++i) {
    waiters.push_back(w.sys().spawn<waiter>(turns, seen_at));
    waiters.back().send(note{i});
  }
  w.run();
  return seen_at;
}

}  // namespace

TEST_CASE("in rounds no ready actor waits more than one round, while uniform choice may starve it longer",
          "[sim]") {
  bool uniform_starved = false;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    INFO("seed " << seed);
    const auto rounds = waits(sim::schedule::rounds, seed);
    REQUIRE(rounds.size() == 8);
    // All nine were ready at the start: each waiter runs in the first round,
    // so the spinner has taken at most that round's one turn.
    CHECK(*std::max_element(rounds.begin(), rounds.end()) <= 1);
    const auto uniform = waits(sim::schedule::uniform, seed);
    REQUIRE(uniform.size() == 8);
    uniform_starved |= *std::max_element(uniform.begin(), uniform.end()) > 1;
  }
  CHECK(uniform_starved);  // the spinner took a second turn before some waiter's first
}

TEST_CASE("a drop fault swallows and counts deliveries until it is switched off", "[sim][faults]") {
  sim::world w{{.seed = 5}};
  std::vector<std::pair<int, duration>> log;
  auto a = w.sys().spawn<clocked>(w, log);
  auto sub = w.bus().subscribe<note>("orders.>", a).value();
  auto partition = w.inject("orders.eu.*", sim::drop{});
  partition.off_at(w.now() + 10s);  // the partition heals
  auto other = w.inject("orders.us.*", sim::drop{}, /*on=*/false);
  other.on_at(w.now() + 5s).off_at(w.now() + 6s);
  for (int s = 0; s < 12; ++s)
    w.at(w.now() + std::chrono::seconds{s}, [&w, s] {
      (void)w.bus().publish("orders.eu.placed", note{s});
      (void)w.bus().publish("orders.us.placed", note{100 + s});
    });
  w.run();
  // eu lost seconds 0..9, us lost second 5 only.
  CHECK(w.deliveries().dropped == 11);
  CHECK(partition.stats().fired == 10);
  CHECK(partition.stats().matched == 10);
  CHECK(other.stats().fired == 1);
  CHECK(log.size() == 24 - 11);
  CHECK(sub.stats().delivered == 13);
  for (auto& [n, t] : log) CHECK((n < 100 ? n >= 10 : n != 105));
}

TEST_CASE("a duplicate fault adds copies with the same message id", "[sim][faults]") {
  sim::world w{{.seed = 9}};
  std::vector<std::pair<int, duration>> plain_log, inbox_log;
  auto plain = w.bus().subscribe<note>("x", w.sys().spawn<clocked>(w, plain_log)).value();
  auto inbox = w.bus().subscribe<note>("x", w.sys().spawn<clocked>(w, inbox_log), {.dedupe_window = 64}).value();
  w.inject("x", sim::duplicate{.probability = 1.0, .copies = 2});
  for (int i = 0; i < 5; ++i) (void)w.bus().publish("x", note{i});
  w.run();
  CHECK(plain_log.size() == 15);
  CHECK(inbox_log.size() == 5);
  CHECK(inbox.stats().duplicates == 10);
  CHECK(w.deliveries().duplicated == 20);
}

TEST_CASE("a delay fault defers within [min, max] and keeps each link FIFO", "[sim][faults]") {
  sim::world w{{.seed = 11}};
  std::vector<std::pair<int, duration>> log;
  auto sub = w.bus().subscribe<note>("slow.>", w.sys().spawn<clocked>(w, log)).value();
  w.inject("slow.>", sim::delay{.probability = 0.5, .min = 10ms, .max = 20ms});
  for (int i = 0; i < 200; ++i) (void)w.bus().publish("slow.lane", note{i});
  w.run();
  REQUIRE(log.size() == 200);
  CHECK(w.deliveries().delayed > 50);
  CHECK(w.deliveries().delayed < 150);
  for (int i = 0; i < 200; ++i) CHECK(log[static_cast<std::size_t>(i)].first == i);
  CHECK(log.back().second >= 10ms);
  CHECK(log.back().second <= 20ms);
}

TEST_CASE("a reorder fault shuffles within its window and loses nothing", "[sim][faults]") {
  sim::world w{{.seed = 13}};
  std::vector<std::pair<int, duration>> log;
  auto sub = w.bus().subscribe<note>("r", w.sys().spawn<clocked>(w, log)).value();
  auto f = w.inject("r", sim::reorder{.probability = 1.0, .window = 4, .max_hold = 1ms});
  for (int i = 0; i < 10; ++i) (void)w.bus().publish("r", note{i});
  w.run();
  REQUIRE(log.size() == 10);
  std::vector<int> got;
  for (auto& [n, t] : log) got.push_back(n);
  CHECK_FALSE(std::is_sorted(got.begin(), got.end()));
  for (std::size_t i = 0; i < 8; ++i) CHECK(got[i] / 4 == static_cast<int>(i / 4));  // full windows stay together
  CHECK(log[8].second == 1ms);  // the last two waited out max_hold
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 10; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
  CHECK(f.stats().fired == 10);
}

TEST_CASE("faults combine as documented: a drop wins, the longest delay wins, a reorder beats a delay",
          "[sim][faults]") {
  sim::world w{{.seed = 17}};
  std::vector<std::pair<int, duration>> log;
  auto sub = w.bus().subscribe<note>("f.>", w.sys().spawn<clocked>(w, log)).value();
  SECTION("a drop injected after a duplicate still swallows the delivery and its copies") {
    auto dup = w.inject("f.a", sim::duplicate{.probability = 1.0, .copies = 2});
    auto drop = w.inject("f.a", sim::drop{});
    (void)w.bus().publish("f.a", note{1});
    w.run();
    CHECK(log.empty());
    CHECK(w.deliveries().dropped == 1);
    CHECK(w.deliveries().duplicated == 0);
    CHECK(dup.stats().matched == 1);
    CHECK(drop.stats().fired == 1);
  }
  SECTION("a drop swallows the delivery before later rules see it") {
    auto drop = w.inject("f.a", sim::drop{});
    auto later = w.inject("f.a", sim::delay{.probability = 1.0, .min = 1ms, .max = 1ms});
    (void)w.bus().publish("f.a", note{1});
    w.run();
    CHECK(log.empty());
    CHECK(drop.stats().fired == 1);
    CHECK(later.stats().matched == 0);
  }
  SECTION("of two delays on one delivery, the longer wins; a delay counts the deliveries it defers") {
    w.inject("f.a", sim::delay{.probability = 1.0, .min = 2ms, .max = 2ms});
    w.inject("f.a", sim::delay{.probability = 1.0, .min = 5ms, .max = 5ms});
    w.inject("f.a", sim::duplicate{.probability = 1.0, .copies = 1});
    (void)w.bus().publish("f.a", note{1});
    w.run();
    REQUIRE(log.size() == 2);  // the original and its copy, both deferred
    CHECK(log[0].second == 5ms);
    CHECK(log[1].second == 5ms);
    CHECK(w.deliveries().delayed == 2);
  }
  SECTION("a reorder takes a delivery a delay also picked: it is held, not delayed") {
    w.inject("f.a", sim::delay{.probability = 1.0, .min = 5ms, .max = 5ms});
    auto shuffle = w.inject("f.a", sim::reorder{.probability = 1.0, .window = 2, .max_hold = 1ms});
    (void)w.bus().publish("f.a", note{1});
    w.run();
    REQUIRE(log.size() == 1);
    CHECK(log[0].second == 1ms);  // held until max_hold, not delayed 5 ms
    CHECK(w.deliveries().reordered == 1);
    CHECK(w.deliveries().delayed == 0);
    CHECK(shuffle.stats().fired == 1);
  }
  SECTION("set() switches a rule now") {
    auto drop = w.inject("f.a", sim::drop{});
    (void)w.bus().publish("f.a", note{1});
    drop.set(false);
    (void)w.bus().publish("f.a", note{2});
    drop.set(true);
    (void)w.bus().publish("f.a", note{3});
    w.run();
    REQUIRE(log.size() == 1);
    CHECK(log[0].first == 2);
    CHECK(drop.stats().matched == 2);
  }
}

TEST_CASE("bad fault parameters and patterns are rejected with a clear error", "[sim][faults]") {
  sim::world w;
  CHECK_THROWS_AS(w.inject("a..b", sim::drop{}), std::invalid_argument);
  CHECK_THROWS_AS(w.inject("a", sim::drop{.probability = 1.5}), std::invalid_argument);
  CHECK_THROWS_AS(w.inject("a", sim::delay{.probability = 1, .min = 2ms, .max = 1ms}), std::invalid_argument);
  CHECK_THROWS_AS(w.inject("a", sim::reorder{.probability = 1, .window = 1, .max_hold = 1ms}),
                  std::invalid_argument);
  CHECK_THROWS_AS(w.inject("a", sim::duplicate{.probability = 1, .copies = 0}), std::invalid_argument);
}

TEST_CASE("a deferred delivery to a subscription that is gone is counted, not delivered", "[sim][faults]") {
  sim::world w{{.seed = 17}};
  std::vector<std::pair<int, duration>> log;
  auto sub = w.bus().subscribe<note>("d", w.sys().spawn<clocked>(w, log)).value();
  w.inject("d", sim::delay{.probability = 1, .min = 1s, .max = 1s});
  (void)w.bus().publish("d", note{1});
  w.run_for(500ms);
  sub.unsubscribe();
  w.run();
  CHECK(log.empty());
  CHECK(w.deliveries().cancelled == 1);
  CHECK(w.deliveries().delivered == 0);
}

TEST_CASE("a trace is readable, and written and read back unchanged", "[sim][trace]") {
  sim::world w{{.seed = 21}};
  std::vector<std::pair<int, duration>> log;
  auto sub = w.bus().subscribe<note>("orders.*.placed", w.sys().spawn<clocked>(w, log)).value();
  w.inject("orders.>", sim::drop{.probability = 0.5});
  for (int i = 0; i < 20; ++i) (void)w.bus().publish("orders.eu.placed", note{i});
  w.run();
  const sim::trace& t = w.trace();
  REQUIRE(t.count() == t.records().size());
  bool saw_drop = false, saw_delivery = false;
  for (const auto& r : t.records()) {
    const std::string line = t.describe(r);
    if (r.what == sim::event::drop) {
      saw_drop = true;
      CHECK(line.find("drop sub#1 orders.*.placed <- orders.eu.placed [fault 0]") != std::string::npos);
    }
    if (r.what == sim::event::deliver) {
      saw_delivery = true;
      CHECK(line.find("t=0.000000000s deliver sub#1 orders.*.placed <- orders.eu.placed") == 0);
    }
  }
  CHECK(saw_drop);
  CHECK(saw_delivery);

  const auto path = (std::filesystem::temp_directory_path() / ("courier-trace-" + std::to_string(::getpid()))).string();
  REQUIRE(t.write(path));
  const sim::trace back = sim::trace::read(path);
  std::filesystem::remove(path);
  CHECK(back.hash() == w.trace_hash());
  CHECK(back.count() == t.count());
  CHECK(back.records() == t.records());
  CHECK(back.describe(back.records().front()) == t.describe(t.records().front()));
  CHECK_THROWS_AS(sim::trace::read(path), std::runtime_error);
}

TEST_CASE("a fan-out the injector lets pass is a deliver record and one fanout record", "[sim][trace]") {
  sim::world w{{.seed = 3, .trace_turns = false}};
  std::vector<std::pair<int, duration>> log;
  std::vector<courier::subscription> subs;
  for (int i = 0; i < 4; ++i)
    subs.push_back(w.bus().subscribe<note>("fan.*", w.sys().spawn<clocked>(w, log)).value());
  // A fifth, bounded, takes messages through its overflow policy: reported on its own.
  subs.push_back(w.bus().subscribe<note>("fan.out", w.sys().spawn<clocked>(w, log), {.capacity = 8}).value());
  (void)w.bus().publish("fan.out", note{1});
  w.run();
  REQUIRE(log.size() == 5);
  CHECK(w.deliveries().delivered == 5);
  std::vector<std::string> lines;
  for (const auto& r : w.trace().records())
    if (r.what == sim::event::deliver || r.what == sim::event::fanout) lines.push_back(w.trace().describe(r));
  CHECK(lines == std::vector<std::string>{"t=0.000000000s deliver sub#1 fan.* <- fan.out",
                                          "t=0.000000000s fanout to 3 more subscriptions <- fan.out",
                                          "t=0.000000000s deliver sub#5 fan.out <- fan.out"});
}

TEST_CASE("a dead letter published during a fan-out does not take over the fan-out's trace records",
          "[sim][trace]") {
  sim::world w{{.seed = 5, .trace_turns = false}};
  std::vector<std::pair<int, duration>> log;
  std::vector<std::string> dead;
  auto before = w.bus().subscribe<note>("x.*", w.sys().spawn<clocked>(w, log)).value();
  auto full = w.bus()
                  .subscribe<note>("x.y", w.sys().spawn<clocked>(w, log),
                                   {.capacity = 1, .policy = overflow::dead_letter})
                  .value();
  auto after = w.bus().subscribe<note>("x.>", w.sys().spawn<clocked>(w, log)).value();
  auto dl = w.bus()
                .subscribe<bus_dead_letter>("courier.dead_letter.>",
                                            [&dead](const bus_dead_letter& d) { dead.push_back(d.subject); })
                .value();
  (void)w.bus().publish("x.y", note{1});  // fills `full`: nothing has run yet
  (void)w.bus().publish("x.y", note{2});  // `full` turns it into a dead letter mid fan-out
  w.run();
  CHECK(dead == std::vector<std::string>{"x.y"});
  std::vector<std::string> lines;
  for (const auto& r : w.trace().records())
    if (r.what == sim::event::deliver) lines.push_back(w.trace().describe(r));
  // Each delivery names the subject of the message it delivered.
  CHECK(lines == std::vector<std::string>{
                     "t=0.000000000s deliver sub#1 x.* <- x.y",
                     "t=0.000000000s deliver sub#2 x.y <- x.y",
                     "t=0.000000000s deliver sub#3 x.> <- x.y",
                     "t=0.000000000s deliver sub#1 x.* <- x.y",
                     "t=0.000000000s deliver sub#4 courier.dead_letter.> <- courier.dead_letter.x.y",
                     "t=0.000000000s deliver sub#2 x.y <- x.y",
                     "t=0.000000000s deliver sub#3 x.> <- x.y",
                 });
}

TEST_CASE("a trace keeps its first records but hashes all of them", "[sim][trace]") {
  auto run = [](std::size_t capacity) {
    sim::world w{{.seed = 4, .trace_capacity = capacity}};
    std::vector<std::pair<int, duration>> log;
    auto sub = w.bus().subscribe<note>("n", w.sys().spawn<clocked>(w, log)).value();
    for (int i = 0; i < 50; ++i) (void)w.bus().publish("n", note{i});
    w.run();
    CHECK(w.trace().records().size() == std::min<std::size_t>(capacity, w.trace().count()));
    for (int i = 0; i < 500; ++i) (void)w.bus().publish("n", note{i});
    w.run();
    CHECK(w.trace().records().size() == std::min<std::size_t>(capacity, w.trace().count()));
    return std::pair{w.trace_hash(), w.trace().records()};
  };
  const auto [all_hash, all] = run(1 << 20);
  for (std::size_t capacity : {10, 300, 1000}) {
    const auto [hash, kept] = run(capacity);
    CHECK(hash == all_hash);
    CHECK(std::equal(kept.begin(), kept.end(), all.begin()));
  }
}

TEST_CASE("a trace hash is xxHash64 of the records' bytes, wherever a stage ends", "[sim][trace]") {
  sim::trace empty;
  CHECK(empty.hash() == 0xef46db3751d8e999ULL);  // xxHash64 of no bytes
  sim::trace one;
  one.add(sim::record{
      .time = 1, .value = 2, .subscription = 3, .fault = 4, .what = sim::event::deliver});
  CHECK(one.hash() == 0xf9c695c37fb29e1bULL);
  // Expected values from an independent xxHash64 of the same bytes.
  sim::trace many{100};
  for (std::uint32_t i = 0; i < 600; ++i) {
    many.add(sim::record{.time = i,
                         .value = std::uint64_t{i} * i,
                         .subscription = i % 7,
                         .what = static_cast<sim::event>(i % 9)});
    if (i == 298) CHECK(many.hash() == 0x2ccbc37ea7e1caa8ULL);
  }
  CHECK(many.hash() == 0xadffa111a43e491bULL);
  CHECK(many.count() == 600);
  REQUIRE(many.records().size() == 100);
  CHECK(many.records()[99].value == 99 * 99);
}

TEST_CASE("a world counts each subject's deliveries as the bus does, faults included",
          "[sim][faults]") {
  sim::world w{{.seed = 23}};
  std::vector<std::pair<int, duration>> log;
  auto a = w.bus().subscribe<note>("x", w.sys().spawn<clocked>(w, log)).value();
  auto b = w.bus().subscribe<note>("x", w.sys().spawn<clocked>(w, log)).value();
  auto c = w.bus().subscribe<note>("y", w.sys().spawn<clocked>(w, log)).value();
  w.inject("x", sim::duplicate{.probability = 1, .copies = 1});
  w.inject("y", sim::delay{.probability = 1, .min = 1ms, .max = 2ms});
  for (int i = 0; i < 5; ++i) {
    (void)w.bus().publish("x", note{i});
    (void)w.bus().publish("y", note{i});
  }
  w.run();
  const auto m = w.bus().metrics();
  REQUIRE(m.subject("x") != nullptr);
  REQUIRE(m.subject("y") != nullptr);
  CHECK(m.subject("x")->delivered == 20);  // each message twice to each of two subscribers
  CHECK(m.subject("y")->delivered == 5);   // delivered later, from the delay's timers
  CHECK(log.size() == 25);
}

TEST_CASE("check reports the first failing seed with a command that reruns it", "[sim]") {
  const char* outer = std::getenv("COURIER_SIM_SEED");
  const std::string saved = outer != nullptr ? outer : "";
  ::unsetenv("COURIER_SIM_SEED");
  const auto r = sim::check("fails from seed 5",
                            [](std::uint64_t seed) { return seed >= 5 ? std::string{"seed too big"} : std::string{}; },
                            {.seeds = 100, .first_seed = 1, .budget_seconds = 0, .rerun = "./t \"x\""});
  CHECK_FALSE(r.ok());
  CHECK(r.failing_seed == 5u);
  CHECK(r.seeds_run == 5);
  CHECK(r.rerun == "COURIER_SIM_SEED=5 ./t \"x\"");
  CHECK(r.report().find("seed too big") != std::string::npos);

  ::setenv("COURIER_SIM_SEED", "77", 1);
  std::vector<std::uint64_t> ran;
  const auto one = sim::check("one seed", [&](std::uint64_t seed) {
    ran.push_back(seed);
    return std::string{};
  });
  // Decimal (a leading zero is still decimal) or 0x hex, and nothing else.
  for (auto [text, seed] : {std::pair{"010", 10ULL}, std::pair{"0x1F", 31ULL}, std::pair{"0Xff", 255ULL},
                            std::pair{"18446744073709551615", ~0ULL}}) {
    CAPTURE(text);
    ::setenv("COURIER_SIM_SEED", text, 1);
    CHECK(sim::seed_from_env(1) == seed);
  }
  for (const char* bad : {"seventy", " 7", "+7", "-7", "7 ", "0x", "0x1g", "18446744073709551616", "1e3"}) {
    CAPTURE(bad);
    ::setenv("COURIER_SIM_SEED", bad, 1);
    CHECK_THROWS_AS(sim::seed_from_env(1), std::invalid_argument);
  }
  ::unsetenv("COURIER_SIM_SEED");
  if (outer != nullptr) ::setenv("COURIER_SIM_SEED", saved.c_str(), 1);
  CHECK(one.ok());
  CHECK(ran == std::vector<std::uint64_t>{77});
  if (outer == nullptr) CHECK(sim::seed_from_env(3) == 3);
}

namespace {
/// Counts the live objects of its kind, to see that every payload is freed
/// exactly once: a leak leaves some alive, a double free makes it negative.
struct counted {
  static inline int live = 0;
  int n = 0;
  explicit counted(int v) : n{v} { ++live; }
  counted(const counted& o) : n{o.n} { ++live; }
  ~counted() { --live; }
};

class counted_sink : public actor {
 public:
  using handles = courier::handles<counted>;
  explicit counted_sink(int& seen) : seen_{seen} {}
  void on(const counted&) { ++seen_; }

 private:
  int& seen_;
};
}  // namespace

TEST_CASE("a world runs confined: its counts and references stay exact without locked instructions", "[sim]") {
  // A world's executor is confined(), so its mailboxes, reference counts and
  // bus counters use plain loads and stores (runtime/sharing.hpp); a thread
  // pool's are atomic read-modify-writes.
  courier::system pool{{.workers = 1}};
  CHECK_FALSE(pool.exec().confined());

  counted::live = 0;
  int seen = 0;
  {
    sim::world w{{.seed = 5}};
    CHECK(w.sys().exec().confined());
    std::vector<subscription> subs;
    for (int i = 0; i < 8; ++i)
      subs.push_back(std::move(w.bus().subscribe<counted>("c.*", w.sys().spawn<counted_sink>(seen)).value()));
    auto direct = w.sys().spawn<counted_sink>(seen);
    for (int i = 0; i < 100; ++i) {
      (void)w.bus().publish("c.x", counted{i});  // one payload shared by 8 mailboxes
      direct.send(counted{i});
    }
    w.run();
    CHECK(seen == 900);
    const auto m = w.bus().metrics();
    REQUIRE(m.subject("c.x") != nullptr);
    CHECK(m.subject("c.x")->published == 100);
    CHECK(m.subject("c.x")->delivered == 800);
    for (const auto& s : m.subscriptions) CHECK(s.delivered == 100);
    subs.clear();
    direct.stop();
    w.run();
  }
  CHECK(counted::live == 0);
}
