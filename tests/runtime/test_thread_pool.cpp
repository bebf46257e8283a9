#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/random.hpp"
#include "courier/runtime/system.hpp"
#include "courier/runtime/thread_pool.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using courier::test::in;
using courier::test::wait_until;

namespace {

// A runnable that counts its runs and notices if two threads run it at once.
struct counting_task final : courier::runnable {
  std::atomic<std::uint32_t> runs{0};
  std::atomic<bool> inside{false};
  std::atomic<std::uint32_t>* overlaps = nullptr;
  std::atomic<std::uint64_t>* total = nullptr;

  void run() noexcept override {
    if (inside.exchange(true, std::memory_order_acquire) && overlaps) overlaps->fetch_add(1);
    runs.fetch_add(1, std::memory_order_relaxed);
    inside.store(false, std::memory_order_release);
    if (total) total->fetch_add(1, std::memory_order_release);
  }
};

// A node of a binary tree of tasks: running node i schedules nodes 2i+1 and
// 2i+2 from inside the worker, alternating schedule() and yield().
struct tree_task final : courier::runnable {
  courier::thread_pool* pool = nullptr;
  std::vector<tree_task>* nodes = nullptr;
  std::size_t index = 0;
  std::atomic<std::uint32_t> runs{0};
  std::atomic<int> worker{-2};
  std::atomic<std::uint64_t>* total = nullptr;

  void run() noexcept override {
    runs.fetch_add(1, std::memory_order_relaxed);
    worker.store(pool->current_worker(), std::memory_order_relaxed);
    for (std::size_t child = 2 * index + 1; child <= 2 * index + 2; ++child) {
      if (child >= nodes->size()) break;
      if (child % 3 == 0)
        pool->yield(&(*nodes)[child]);
      else
        pool->schedule(&(*nodes)[child]);
    }
    total->fetch_add(1, std::memory_order_release);
  }
};

// Runs `left` more times by rescheduling itself as the last thing it does.
struct self_rescheduling_task final : courier::runnable {
  courier::thread_pool* pool = nullptr;
  std::uint32_t left = 0;
  std::uint32_t runs = 0;  // plain: a second concurrent run would be a data race
  std::atomic<bool> inside{false};
  std::atomic<std::uint32_t> overlaps{0};
  std::atomic<bool> finished{false};

  void run() noexcept override {
    if (inside.exchange(true, std::memory_order_acquire)) overlaps.fetch_add(1);
    ++runs;
    bool again = left-- > 0;
    inside.store(false, std::memory_order_release);
    if (!again) {
      finished.store(true, std::memory_order_release);
      return;
    }
    if (runs % 2 == 0)
      pool->yield(this);
    else
      pool->schedule(this);
  }
};

}  // namespace

TEST_CASE("thread_pool runs every runnable scheduled from outside exactly once") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  CAPTURE(workers);
  courier::thread_pool pool{{.workers = workers}};
  CHECK(pool.concurrency() == workers);
  CHECK(pool.current_worker() == -1);

  constexpr std::size_t per_thread = 5'000;
  constexpr std::size_t submitters = 3;
  std::vector<counting_task> tasks(per_thread * submitters);
  std::atomic<std::uint32_t> overlaps{0};
  std::atomic<std::uint64_t> total{0};
  for (auto& t : tasks) {
    t.overlaps = &overlaps;
    t.total = &total;
  }
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < submitters; ++s) {
    threads.emplace_back([&, s] {
      for (std::size_t i = s * per_thread; i < (s + 1) * per_thread; ++i) pool.schedule(&tasks[i]);
    });
  }
  for (auto& t : threads) t.join();

  REQUIRE(wait_until([&] { return total.load(std::memory_order_acquire) == tasks.size(); }, in(60s)));
  CHECK(pool.wait_idle(in(60s)));
  std::size_t not_once = 0;
  for (auto& t : tasks) not_once += t.runs.load() != 1;
  CHECK(not_once == 0);
  CHECK(overlaps.load() == 0);
  CHECK(total.load() == tasks.size());
}

TEST_CASE("thread_pool runs every runnable scheduled or yielded from inside a worker exactly once") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  CAPTURE(workers);
  courier::thread_pool pool{{.workers = workers}};
  std::vector<tree_task> nodes(20'000);
  std::atomic<std::uint64_t> total{0};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].pool = &pool;
    nodes[i].nodes = &nodes;
    nodes[i].index = i;
    nodes[i].total = &total;
  }
  pool.schedule(&nodes[0]);

  REQUIRE(wait_until([&] { return total.load(std::memory_order_acquire) == nodes.size(); }, in(60s)));
  CHECK(pool.wait_idle(in(60s)));
  std::size_t not_once = 0, outside = 0;
  for (auto& n : nodes) {
    not_once += n.runs.load() != 1;
    int w = n.worker.load();
    outside += w < 0 || w >= static_cast<int>(workers);
  }
  CHECK(not_once == 0);
  CHECK(outside == 0);
  CHECK(total.load() == nodes.size());
}

TEST_CASE("thread_pool runs a runnable that reschedules itself once per schedule, on one thread at a time") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  CAPTURE(workers);
  courier::thread_pool pool{{.workers = workers}};
  std::vector<self_rescheduling_task> tasks(8);
  for (auto& t : tasks) {
    t.pool = &pool;
    t.left = 5'000;
  }
  for (auto& t : tasks) pool.schedule(&t);
  REQUIRE(wait_until(
      [&] {
        for (auto& t : tasks)
          if (!t.finished.load(std::memory_order_acquire)) return false;
        return true;
      },
      in(60s)));
  CHECK(pool.wait_idle(in(60s)));
  for (auto& t : tasks) {
    CHECK(t.runs == 5'001);
    CHECK(t.overlaps.load() == 0);
  }
}

TEST_CASE("thread_pool wait_idle returns true once the pool is idle and false at a deadline while busy") {
  courier::thread_pool pool{{.workers = 2}};
  CHECK(pool.wait_idle(in(30s)));
  CHECK(wait_until([&] { return pool.parked() == 2; }, in(30s)));

  struct blocker final : courier::runnable {
    std::atomic<bool> release{false};
    std::atomic<bool> started{false};
    std::atomic<bool> done{false};
    void run() noexcept override {
      started.store(true);
      while (!release.load()) std::this_thread::yield();
      done.store(true);
    }
  } b;
  pool.schedule(&b);
  REQUIRE(wait_until([&] { return b.started.load(); }, in(30s)));
  CHECK_FALSE(pool.wait_idle(in(1ms)));
  b.release.store(true);
  CHECK(pool.wait_idle(in(30s)));
  CHECK(b.done.load());
}

namespace {

struct wake_up_run {
  std::uint64_t stalled_at = 0;  ///< the first cycle whose work was not seen in time (0: none)
  std::uint64_t waited = 0;      ///< cycles that kicked a fully parked pool
  std::uint64_t parks = 0;
};

/// Runs `cycles` rounds of kick(i) and waits for `seen` to reach i. Half the
/// cycles (chosen by the seed) first wait for every worker to be asleep (the
/// futex wake path); the rest kick while a worker is still on its way to
/// park (the announce-then-recheck race). The per-cycle deadline is the
/// watchdog: a lost wake-up fails the cycle instead of hanging the suite.
template <class Kick>
wake_up_run wake_up_cycles(courier::thread_pool& pool, unsigned workers, std::uint64_t cycles,
                           std::uint64_t seed, Kick kick, const std::atomic<std::uint64_t>& seen) {
  courier::splitmix64 rng{seed};
  wake_up_run run;
  const auto parks_before = pool.statistics().parks;
  for (std::uint64_t i = 1; i <= cycles; ++i) {
    if (rng.below(2) == 0 && wait_until([&] { return pool.parked() == workers; }, in(10s))) ++run.waited;
    if (!kick(i) || !wait_until([&] { return seen.load(std::memory_order_acquire) == i; }, in(10s))) {
      run.stalled_at = i;
      break;
    }
  }
  run.parks = pool.statistics().parks - parks_before;
  return run;
}

}  // namespace

TEST_CASE("thread_pool never loses a wake-up for runnables scheduled from outside while workers park",
          "[stress]") {
  COURIER_TEST_SEED(seed);
  const unsigned workers = GENERATE(1u, 2u, 4u);
  // In a burst the runnable is held until the burst ends, then handed over with the wake-up.
  const bool in_burst = GENERATE(false, true);
  const std::uint64_t cycles = courier::test::scaled(100'000, 2'000);
  CAPTURE(workers, in_burst, cycles);
  courier::thread_pool pool{{.workers = workers, .seed = seed}};
  counting_task task;
  std::atomic<std::uint64_t> total{0};
  task.total = &total;
  const auto run = wake_up_cycles(pool, workers, cycles, seed, [&](std::uint64_t) {
    if (!in_burst) {
      pool.schedule(&task);
      return true;
    }
    const courier::schedule_burst burst{pool};
    pool.schedule(&task);
    return true;
  }, total);
  CAPTURE(run.waited, run.parks);
  CHECK(run.stalled_at == 0);
  CHECK(run.parks >= run.waited / 2);
  CHECK(pool.wait_idle(in(30s)));
}

namespace {

struct hop {
  std::uint32_t id;
  std::uint32_t hop;
  std::uint32_t sender;  // external sender index; only meaningful for hop 0
};

struct alignas(64) actor_stats {
  std::atomic<bool> inside{false};
  std::uint64_t handled = 0;  // plain: written only by the handler, so a race shows in TSan
  std::vector<std::uint32_t> last_from;  // last hop-0 id + 1 per external sender
};

struct fleet {
  std::uint64_t seed = 0;
  std::uint32_t hops = 0;
  std::vector<courier::actor_ref> refs;
  std::vector<actor_stats> stats;
  std::unique_ptr<std::atomic<std::uint8_t>[]> per_id;  // deliveries per message id
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> overlaps{0};
  std::atomic<std::uint64_t> misrouted{0};
  std::atomic<std::uint64_t> reordered{0};

  std::size_t route(std::uint32_t id, std::uint32_t h) const {
    courier::splitmix64 r{seed ^ (std::uint64_t{id} << 8 | h)};
    return static_cast<std::size_t>(r.below(refs.size()));
  }
};

class forwarder : public courier::actor {
 public:
  using handles = courier::handles<hop>;
  forwarder(fleet* f, std::size_t index) : f_{f}, index_{index} {}

  void on(const hop& m) {
    actor_stats& st = f_->stats[index_];
    if (st.inside.exchange(true, std::memory_order_acquire)) f_->overlaps.fetch_add(1);
    ++st.handled;
    if (f_->route(m.id, m.hop) != index_) f_->misrouted.fetch_add(1);
    if (m.hop == 0) {
      auto& last = st.last_from[m.sender];
      if (m.id < last) f_->reordered.fetch_add(1);
      last = m.id + 1;
    }
    f_->per_id[m.id].fetch_add(1, std::memory_order_relaxed);
    if (m.hop + 1 < f_->hops) f_->refs[f_->route(m.id, m.hop + 1)].send(hop{m.id, m.hop + 1, 0});
    st.inside.store(false, std::memory_order_release);
    // release: publishes this handler's plain writes to the test thread's acquire.
    f_->delivered.fetch_add(1, std::memory_order_release);
  }

 private:
  fleet* f_;
  std::size_t index_;
};

}  // namespace

TEST_CASE("10^6 messages to 10^4 actors are all delivered and no actor runs on two threads at once",
          "[stress]") {
  const unsigned workers = GENERATE(1u, 2u, 4u, 16u);
  COURIER_TEST_SEED(seed);
  constexpr std::uint32_t actors = 10'000;
  constexpr std::uint32_t senders = 2;
  fleet f;
  f.seed = seed;
  f.hops = 4;
  const auto ids = static_cast<std::uint32_t>(courier::test::scaled(250'000, 10'000));
  const std::uint64_t expected_total = std::uint64_t{ids} * f.hops;
  CAPTURE(workers, ids, expected_total);
  f.stats = std::vector<actor_stats>(actors);
  for (auto& s : f.stats) s.last_from.assign(senders, 0);
  f.per_id = std::make_unique<std::atomic<std::uint8_t>[]>(ids);
  {
    courier::system sys{{.workers = workers}};
    f.refs.reserve(actors);
    for (std::uint32_t a = 0; a < actors; ++a) f.refs.push_back(sys.spawn<forwarder>(&f, a));

    std::vector<std::thread> threads;
    for (std::uint32_t s = 0; s < senders; ++s) {
      threads.emplace_back([&f, &ids, s, seed] {
        courier::splitmix64 rng{seed + s};
        for (std::uint32_t id = s; id < ids; id += senders) {
          f.refs[f.route(id, 0)].send(hop{id, 0, s});
          if (rng.below(1024) == 0) std::this_thread::yield();
        }
      });
    }
    for (auto& t : threads) t.join();

    const bool all = wait_until(
        [&] { return f.delivered.load(std::memory_order_acquire) == expected_total; }, in(120s));
    CHECK(all);
    CHECK(sys.await_idle(in(60s)));
    CHECK(f.delivered.load(std::memory_order_acquire) == expected_total);
    CHECK(sys.dead_letters().total() == 0);

    std::vector<std::uint64_t> expected(actors, 0);
    for (std::uint32_t id = 0; id < ids; ++id)
      for (std::uint32_t h = 0; h < f.hops; ++h) ++expected[f.route(id, h)];
    std::uint64_t wrong_count = 0;
    for (std::uint32_t a = 0; a < actors; ++a) wrong_count += f.stats[a].handled != expected[a];
    std::uint64_t wrong_id = 0;
    for (std::uint32_t id = 0; id < ids; ++id) wrong_id += f.per_id[id].load() != f.hops;
    CHECK(wrong_count == 0);
    CHECK(wrong_id == 0);
    CHECK(f.overlaps.load() == 0);
    CHECK(f.misrouted.load() == 0);
    CHECK(f.reordered.load() == 0);
    f.refs.clear();
  }
}

namespace {

struct ping {
  std::uint64_t n;
};

class acker : public courier::actor {
 public:
  using handles = courier::handles<ping>;
  explicit acker(std::atomic<std::uint64_t>* ack) : ack_{ack} {}
  // release: the test thread's acquire of the ack sees the whole handler.
  void on(const ping& p) { ack_->store(p.n, std::memory_order_release); }

 private:
  std::atomic<std::uint64_t>* ack_;
};

}  // namespace

TEST_CASE("an actor woken 10^6 times from outside never loses a wake-up", "[stress]") {
  COURIER_TEST_SEED(seed);
  // 10^6 cycles in all: half with one worker, half with two.
  const unsigned workers = GENERATE(1u, 2u);
  const std::uint64_t cycles = courier::test::scaled(500'000, 5'000);
  CAPTURE(workers, cycles);
  std::atomic<std::uint64_t> ack{0};
  courier::system sys{{.workers = workers}};
  auto& pool = dynamic_cast<courier::thread_pool&>(sys.exec());
  auto ref = sys.spawn<acker>(&ack);
  const auto run = wake_up_cycles(pool, workers, cycles, seed,
                                  [&](std::uint64_t i) { return ref.send(ping{i}); }, ack);
  CAPTURE(run.waited, run.parks);
  CHECK(run.stalled_at == 0);
  CHECK(run.parks >= run.waited / 2);
  CHECK(sys.await_idle(in(30s)));
  CHECK(sys.dead_letters().total() == 0);
}

namespace {

struct tick {};

class tick_counter : public courier::actor {
 public:
  using handles = courier::handles<tick>;
  explicit tick_counter(std::atomic<std::uint64_t>* n) : n_{n} {}
  void on(const tick&) {
    ++mine_;  // plain: a turn overlapping another would be a data race
    n_->fetch_add(1, std::memory_order_release);
  }

 private:
  std::uint64_t mine_ = 0;
  std::atomic<std::uint64_t>* n_;
};

}  // namespace

TEST_CASE("an actor rescheduled by a sender just as its turn ends is consumed by one thread at a time",
          "[stress]") {
  // A sender that finds the actor idle schedules it on another worker while
  // the worker that ran the last turn is still finishing it. Only the new
  // turn may touch the mailbox's consumer side; ThreadSanitizer reports any
  // overlap.
  COURIER_TEST_SEED(seed);
  const unsigned workers = GENERATE(2u, 4u);
  const std::uint64_t per_sender = courier::test::scaled(200'000, 100'000);
  constexpr unsigned senders = 2;
  CAPTURE(workers, per_sender);
  std::atomic<std::uint64_t> handled{0};
  courier::system sys{{.workers = workers}};
  auto ref = sys.spawn<tick_counter>(&handled);
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> threads;
  for (unsigned s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      courier::splitmix64 rng{seed + s};
      for (std::uint64_t i = 0; i < per_sender; ++i) {
        if (!ref.send(tick{})) refused.fetch_add(1);
        // Pause now and then so the actor often runs dry and ends its turn.
        if (rng.below(4) == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wait_until([&] { return handled.load(std::memory_order_acquire) == senders * per_sender; },
                   in(60s)));
  CHECK(sys.await_idle(in(30s)));
  CHECK(refused.load() == 0);
  CHECK(handled.load() == senders * per_sender);
}

namespace {

/// Schedules `children` tasks from inside a worker, in one burst, then counts itself.
struct bursting_task final : courier::runnable {
  courier::thread_pool* pool = nullptr;
  std::vector<counting_task>* children = nullptr;
  std::atomic<std::uint64_t>* total = nullptr;
  std::atomic<std::uint32_t> runs{0};

  void run() noexcept override {
    runs.fetch_add(1, std::memory_order_relaxed);
    {
      const courier::schedule_burst burst{*pool};
      for (auto& c : *children) pool->schedule(&c);
    }
    total->fetch_add(1, std::memory_order_release);
  }
};

}  // namespace

TEST_CASE("thread_pool runs every runnable scheduled in bursts exactly once, nested, across pools and from workers",
          "[stress]") {
  COURIER_TEST_SEED(seed);
  const unsigned workers = GENERATE(1u, 2u, 4u);
  CAPTURE(workers);
  courier::thread_pool pool{{.workers = workers, .seed = seed}};
  courier::thread_pool other{{.workers = 1, .seed = seed + 1}};
  constexpr std::size_t submitters = 3;
  const std::size_t per_thread = courier::test::scaled(20'000, 2'000);
  std::vector<counting_task> tasks(per_thread * submitters), others(per_thread * submitters);
  std::atomic<std::uint32_t> overlaps{0};
  std::atomic<std::uint64_t> total{0}, other_total{0};
  std::vector<char> to_other(tasks.size(), 0);  // each submitter writes its own range
  for (auto& t : tasks) {
    t.overlaps = &overlaps;
    t.total = &total;
  }
  for (auto& t : others) {
    t.overlaps = &overlaps;
    t.total = &other_total;
  }
  // Bursts of 1 to 300 (past what one burst holds), some nested in a burst
  // of the same pool, some holding a burst of the other pool inside them.
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < submitters; ++s) {
    threads.emplace_back([&, s] {
      courier::splitmix64 rng{seed ^ (s + 1)};
      std::size_t i = s * per_thread;
      const std::size_t end = (s + 1) * per_thread;
      while (i < end) {
        const auto shape = rng.below(4);
        // Shape 3 opens the other pool's burst first: it holds, and `pool`'s inside it does not.
        const courier::schedule_burst burst{shape == 3 ? other : pool};
        const std::size_t n = std::min<std::size_t>(end - i, 1 + rng.below(300));
        for (std::size_t k = 0; k < n; ++k, ++i) {
          if (shape == 1 && k == n / 2) {
            const courier::schedule_burst inner{pool};
            pool.schedule(&tasks[i]);
          } else if ((shape == 2 || shape == 3) && k % 8 == 0) {
            const courier::schedule_burst foreign{shape == 2 ? other : pool};
            to_other[i] = 1;
            other.schedule(&others[i]);
            pool.schedule(&tasks[i]);
          } else {
            pool.schedule(&tasks[i]);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // A worker's burst: 500 more from inside the pool.
  std::vector<counting_task> children(500);
  for (auto& c : children) {
    c.overlaps = &overlaps;
    c.total = &total;
  }
  std::atomic<std::uint64_t> parents{0};
  bursting_task parent;
  parent.pool = &pool;
  parent.children = &children;
  parent.total = &parents;
  pool.schedule(&parent);

  const std::uint64_t expected = tasks.size() + children.size();
  REQUIRE(wait_until([&] { return total.load(std::memory_order_acquire) == expected && parents.load() == 1; },
                     in(60s)));
  const auto sent_other = static_cast<std::uint64_t>(std::count(to_other.begin(), to_other.end(), 1));
  REQUIRE(wait_until([&] { return other_total.load(std::memory_order_acquire) == sent_other; }, in(60s)));
  CHECK(pool.wait_idle(in(60s)));
  CHECK(other.wait_idle(in(60s)));
  std::size_t not_once = 0;
  for (auto& t : tasks) not_once += t.runs.load() != 1;
  for (auto& c : children) not_once += c.runs.load() != 1;
  for (std::size_t i = 0; i < others.size(); ++i) not_once += others[i].runs.load() != static_cast<std::uint32_t>(to_other[i]);
  CHECK(not_once == 0);
  CHECK(overlaps.load() == 0);
  CHECK(total.load() == expected);
}

namespace {

/// Runs only once `expected` rendezvous tasks run at the same time, or a deadline passes.
struct rendezvous_task final : courier::runnable {
  std::atomic<unsigned>* arrived = nullptr;
  unsigned expected = 0;
  std::atomic<unsigned>* met = nullptr;

  void run() noexcept override {
    arrived->fetch_add(1, std::memory_order_acq_rel);
    if (wait_until([&] { return arrived->load(std::memory_order_acquire) >= expected; }, in(20s)))
      met->fetch_add(1, std::memory_order_release);
  }
};

/// Schedules `tasks` in one burst from inside a worker, then a task that
/// takes the worker's LIFO slot: a runnable there cannot be stolen, so a
/// rendezvous task left in it would wait for its own worker.
struct burst_from_worker final : courier::runnable {
  courier::thread_pool* pool = nullptr;
  std::vector<rendezvous_task>* tasks = nullptr;
  counting_task tail;
  void run() noexcept override {
    const courier::schedule_burst burst{*pool};
    for (auto& t : *tasks) pool->schedule(&t);
    pool->schedule(&tail);
  }
};

}  // namespace

TEST_CASE("a burst's one wake-up spreads to as many sleeping workers as its runnables need", "[stress]") {
  constexpr unsigned workers = 4;
  const bool from_worker = GENERATE(false, true);
  // From a worker, that worker is busy with the bursting task, so the others meet.
  const unsigned meet = from_worker ? workers - 1 : workers;
  CAPTURE(from_worker);
  courier::thread_pool pool{{.workers = workers}};
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    REQUIRE(wait_until([&] { return pool.parked() == workers; }, in(20s)));
    std::atomic<unsigned> arrived{0}, met{0};
    std::vector<rendezvous_task> tasks(meet);
    for (auto& t : tasks) {
      t.arrived = &arrived;
      t.expected = meet;
      t.met = &met;
    }
    burst_from_worker starter;
    starter.pool = &pool;
    starter.tasks = &tasks;
    if (from_worker) {
      pool.schedule(&starter);
    } else {
      const courier::schedule_burst burst{pool};
      for (auto& t : tasks) pool.schedule(&t);
    }
    // Every task waits for all the others: one worker running them in turn never gets there.
    REQUIRE(wait_until([&] { return met.load(std::memory_order_acquire) == meet; }, in(30s)));
    CHECK(pool.wait_idle(in(20s)));
  }
}

TEST_CASE("flush_burst hands over what a burst holds and leaves it open") {
  courier::thread_pool pool{{.workers = 2}};
  counting_task first, second;
  std::atomic<std::uint64_t> total{0};
  first.total = &total;
  second.total = &total;
  {
    const courier::schedule_burst burst{pool};
    pool.schedule(&first);
    pool.flush_burst();
    // Waiting inside the burst is safe once it is flushed.
    REQUIRE(wait_until([&] { return total.load(std::memory_order_acquire) == 1; }, in(20s)));
    pool.schedule(&second);  // held again, until the burst ends
  }
  REQUIRE(wait_until([&] { return total.load(std::memory_order_acquire) == 2; }, in(20s)));
  CHECK(first.runs.load() == 1);
  CHECK(second.runs.load() == 1);
  CHECK(pool.wait_idle(in(20s)));
}

namespace {
/// On a worker: schedules `waited` (into this worker's LIFO slot), then
/// blocks until it has run, as a handler blocking on a full mailbox would.
struct blocking_waiter final : courier::runnable {
  courier::thread_pool* pool = nullptr;
  counting_task* waited = nullptr;
  std::atomic<bool> saw_it_run{false};
  void run() noexcept override {
    pool->schedule(waited);
    pool->prepare_to_block();
    saw_it_run.store(wait_until([&] { return waited->runs.load() == 1; }, in(20s)), std::memory_order_release);
  }
};
}  // namespace

TEST_CASE("prepare_to_block lets another worker take what this worker would run next") {
  const bool in_burst = GENERATE(false, true);
  CAPTURE(in_burst);
  courier::thread_pool pool{{.workers = 2}};
  REQUIRE(wait_until([&] { return pool.parked() == 2; }, in(20s)));
  counting_task waited;
  blocking_waiter waiter;
  waiter.pool = &pool;
  waiter.waited = &waited;
  struct starter final : courier::runnable {
    blocking_waiter* waiter = nullptr;
    courier::thread_pool* pool = nullptr;
    bool in_burst = false;
    void run() noexcept override {
      if (!in_burst) return waiter->run();
      const courier::schedule_burst burst{*pool};  // the wake-up is owed to the burst's end
      waiter->run();
    }
  } start;
  start.waiter = &waiter;
  start.pool = &pool;
  start.in_burst = in_burst;
  pool.schedule(&start);
  REQUIRE(pool.wait_idle(in(30s)));
  CHECK(waiter.saw_it_run.load(std::memory_order_acquire));
  CHECK(waited.runs.load() == 1);
}
