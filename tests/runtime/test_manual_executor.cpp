#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/random.hpp"
#include "courier/runtime/system.hpp"
#include "test_support.hpp"

namespace {

struct counting_task final : courier::runnable {
  int runs = 0;
  void run() noexcept override { ++runs; }
};

struct ball {
  std::uint32_t id;
  std::uint32_t hops_left;
};

using trace = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // (actor, message)

struct court {
  std::vector<courier::actor_ref> players;
  trace log;
};

class player : public courier::actor {
 public:
  using handles = courier::handles<ball>;
  player(court* c, std::uint32_t index) : court_{c}, index_{index} {}

  void on(const ball& b) {
    court_->log.emplace_back(index_, b.id << 8 | b.hops_left);
    if (b.hops_left == 0) return;
    auto to = (index_ + b.id + b.hops_left) % court_->players.size();
    court_->players[to].send(ball{b.id, b.hops_left - 1});
  }

 private:
  court* court_;
  std::uint32_t index_;
};

// Several players pass balls to each other on a manual executor with the
// given seed; returns the order in which the balls were handled.
trace play(std::uint64_t seed) {
  court c;
  courier::manual_executor manual{{.seed = seed}};
  {
    courier::system sys{{.throughput = 1, .exec = &manual}};
    for (std::uint32_t i = 0; i < 5; ++i) c.players.push_back(sys.spawn<player>(&c, i));
    for (std::uint32_t b = 0; b < 10; ++b) c.players[b % 5].send(ball{b, 8});
    manual.run();
    c.players.clear();
  }
  return c.log;
}

}  // namespace

TEST_CASE("manual_executor runs nothing until asked and then runs each scheduled runnable once") {
  courier::manual_executor manual{{.seed = 1}};
  CHECK_FALSE(manual.run_one());
  CHECK(manual.run() == 0);
  std::vector<counting_task> tasks(10);
  for (auto& t : tasks) manual.schedule(&t);
  CHECK(manual.ready() == 10);
  for (auto& t : tasks) CHECK(t.runs == 0);
  CHECK(manual.run_one());
  CHECK(manual.ready() == 9);
  CHECK(manual.run(3) == 3);
  CHECK(manual.ready() == 6);
  CHECK(manual.run() == 6);
  CHECK(manual.ready() == 0);
  for (auto& t : tasks) CHECK(t.runs == 1);
  CHECK(manual.concurrency() == 1);
}

TEST_CASE("manual_executor picks the same order for the same seed") {
  auto order = [](std::uint64_t seed) {
    courier::manual_executor manual{{.seed = seed}};
    std::vector<counting_task> tasks(20);
    for (auto& t : tasks) manual.schedule(&t);
    std::vector<std::size_t> seen;
    while (manual.ready() > 0) {
      manual.run_one();
      for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].runs == 1 && std::find(seen.begin(), seen.end(), i) == seen.end()) seen.push_back(i);
    }
    return seen;
  };
  CHECK(order(42) == order(42));
  CHECK(order(42).size() == 20);
  CHECK(order(42) != order(43));
}

TEST_CASE("a seed fixes the trace of actors on manual_executor and different seeds give different traces") {
  COURIER_TEST_SEED(base);
  constexpr int seeds = 100;
  std::set<trace> distinct;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> reference;
  for (int i = 0; i < seeds; ++i) {
    const std::uint64_t seed = courier::splitmix64{base + static_cast<std::uint64_t>(i)}.next();
    CAPTURE(i, seed);
    trace first = play(seed);
    trace second = play(seed);
    REQUIRE(first == second);
    // Every seed handles the same messages, only in another order.
    REQUIRE(first.size() == 10 * 9);
    auto sorted = first;
    std::sort(sorted.begin(), sorted.end());
    if (reference.empty()) reference = sorted;
    REQUIRE(sorted == reference);
    distinct.insert(std::move(first));
  }
  CHECK(distinct.size() >= 90);
}

TEST_CASE("manual_executor's on_turn hears each pick before it runs, and the picks replay the order") {
  std::vector<counting_task> tasks(8);
  std::vector<std::pair<std::size_t, std::size_t>> turns;  // (ready, picked)
  std::vector<std::size_t> ran;                          // task indexes, in the order they ran
  {
    courier::manual_executor manual{
        {.seed = 9, .on_turn = [&](std::size_t ready, std::size_t picked) {
           // Heard before the turn: the picked runnable has not run yet.
           CHECK(std::count_if(tasks.begin(), tasks.end(), [](const counting_task& t) { return t.runs == 1; }) ==
                 static_cast<std::ptrdiff_t>(tasks.size() - ready));
           turns.emplace_back(ready, picked);
         }}};
    for (auto& t : tasks) manual.schedule(&t);
    while (manual.run_one())
      for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].runs == 1 && std::find(ran.begin(), ran.end(), i) == ran.end()) ran.push_back(i);
  }
  REQUIRE(turns.size() == tasks.size());
  // Replaying the picks on the same list (the pick trades places with the last) gives the same order.
  std::vector<std::size_t> ready(tasks.size());
  for (std::size_t i = 0; i < ready.size(); ++i) ready[i] = i;
  std::vector<std::size_t> replayed;
  for (auto [count, picked] : turns) {
    REQUIRE(count == ready.size());
    REQUIRE(picked < count);
    std::swap(ready[picked], ready.back());
    replayed.push_back(ready.back());
    ready.pop_back();
  }
  CHECK(replayed == ran);
}
