#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/random.hpp"
#include "courier/runtime/system.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using courier::dead_letter_reason;
using courier::test::in;
using courier::test::wait_until;

namespace {

struct note {};

class counter : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit counter(std::atomic<std::uint64_t>* handled) : handled_{handled} {}
  void on(const note&) { handled_->fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t>* handled_;
};

// Dead letters by reason, counted by a sink that may run on any thread.
struct reason_counts {
  std::array<std::atomic<std::uint64_t>, courier::dead_letter_reason_count> by_reason{};
  courier::dead_letter_sink sink() {
    return [this](const courier::dead_letter& d) {
      by_reason[static_cast<std::size_t>(d.reason)].fetch_add(1, std::memory_order_relaxed);
    };
  }
  std::uint64_t operator[](dead_letter_reason r) const {
    return by_reason[static_cast<std::size_t>(r)].load();
  }
};

}  // namespace

namespace {

struct flood_config {
  unsigned workers;
  std::size_t actors;
  unsigned senders;
  std::uint64_t per_sender;
  std::uint64_t rounds;
};

// Several threads send to random actors; meanwhile the test stops a random
// half of the actors and shuts the system down, mostly while the senders are
// still sending. Every send must end up handled or counted as a dead letter.
void flood_during_shutdown(const flood_config& cfg, std::uint64_t seed) {
  const std::size_t actors = cfg.actors;
  const unsigned senders = cfg.senders;
  const std::uint64_t per_sender = cfg.per_sender;
  const unsigned workers = cfg.workers;
  for (std::uint64_t round = 0; round < cfg.rounds; ++round) {
    courier::splitmix64 rng{seed + round};
    // Shut down while the senders still flood, or only once they are done.
    const bool shutdown_under_load = rng.below(4) != 0;
    const std::uint64_t stop_after = rng.below(per_sender * senders / 2);
    CAPTURE(round, shutdown_under_load, stop_after);

    std::atomic<std::uint64_t> handled{0}, sent{0}, refused{0};
    courier::system sys{{.workers = workers}};
    std::vector<courier::actor_ref> refs;
    for (std::size_t a = 0; a < actors; ++a) refs.push_back(sys.spawn<counter>(&handled));

    std::atomic<unsigned> finished{0};
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < senders; ++s) {
      threads.emplace_back([&, s] {
        courier::splitmix64 r{seed ^ (round << 8 | s)};
        for (std::uint64_t i = 0; i < per_sender; ++i) {
          if (!refs[r.below(actors)].send(note{})) refused.fetch_add(1, std::memory_order_relaxed);
          sent.fetch_add(1, std::memory_order_relaxed);
          if (r.below(256) == 0) std::this_thread::yield();
        }
        finished.fetch_add(1);
      });
    }

    // No REQUIRE while the senders run: leaving early would destroy joinable threads.
    CHECK(wait_until([&] { return sent.load() >= stop_after; }, in(60s)));
    for (std::size_t a = 0; a < actors; ++a)
      if (rng.below(2) == 0) refs[a].stop();
    if (shutdown_under_load) {
      sys.shutdown();
    } else {
      CHECK(wait_until([&] { return finished.load() == senders; }, in(120s)));
      CHECK(sys.await_idle(in(60s)));
      sys.shutdown();
    }
    for (auto& t : threads) t.join();
    refs.clear();

    const auto dead = sys.dead_letters();
    CAPTURE(sent.load(), handled.load(), refused.load(), dead[dead_letter_reason::stopped],
            dead[dead_letter_reason::shutdown]);
    CHECK(sent.load() == senders * per_sender);
    CHECK(sent.load() == handled.load() + dead.total());
    CHECK(refused.load() <= dead.total());
    CHECK(dead[dead_letter_reason::unhandled] == 0);
    CHECK(dead[dead_letter_reason::failed] == 0);
    CHECK(sys.live_actors() == 0);
  }
}

}  // namespace

TEST_CASE("every message sent while actors stop and the system shuts down is handled or dead-lettered",
          "[stress]") {
  const unsigned workers = GENERATE(1u, 2u, 4u);
  COURIER_TEST_SEED(seed);
  const flood_config cfg{.workers = workers,
                         .actors = 32,
                         .senders = 3,
                         .per_sender = courier::test::scaled(10'000, 2'000),
                         .rounds = courier::test::scaled(20, 4)};
  CAPTURE(workers, cfg.per_sender, cfg.rounds);
  flood_during_shutdown(cfg, seed);
}

TEST_CASE("every message sent by oversubscribed senders during shutdown is handled or dead-lettered",
          "[stress]") {
  const unsigned workers = GENERATE(1u, 2u);
  COURIER_TEST_SEED(seed);
  // Many more senders than cores, to many mostly idle actors: at any moment
  // most senders are preempted somewhere inside send(), some of them between
  // winning the right to schedule an idle actor and handing it to the pool.
  const flood_config cfg{.workers = workers,
                         .actors = 512,
                         .senders = 16,
                         .per_sender = 400,
                         .rounds = courier::test::scaled(1'000, 20)};
  CAPTURE(workers, cfg.per_sender, cfg.rounds);
  flood_during_shutdown(cfg, seed);
}

TEST_CASE("every message sent by oversubscribed senders during many short shutdowns is handled or dead-lettered",
          "[soak][.]") {
  COURIER_TEST_SEED(seed);
  // The same race as above, in many short rounds: about ten thousand
  // shutdowns, each with sixteen senders still sending.
  const flood_config cfg{.workers = 1,
                         .actors = 512,
                         .senders = 16,
                         .per_sender = 400,
                         .rounds = courier::test::scaled(10'000, 100)};
  CAPTURE(cfg.rounds);
  flood_during_shutdown(cfg, seed);
}

TEST_CASE("destroying a system dead-letters every queued message with reason shutdown") {
  reason_counts letters;
  std::atomic<std::uint64_t> handled{0};
  courier::manual_executor manual{{.seed = 11}};
  {
    courier::system sys{{.exec = &manual, .on_dead_letter = letters.sink()}};
    std::vector<courier::actor_ref> refs;
    for (int a = 0; a < 3; ++a) refs.push_back(sys.spawn<counter>(&handled));
    for (auto& r : refs)
      for (int i = 0; i < 5; ++i) CHECK(r.send(note{}));
    CHECK(manual.ready() == 3);
  }
  CHECK(handled.load() == 0);
  CHECK(letters[dead_letter_reason::shutdown] == 15);
  CHECK(letters[dead_letter_reason::stopped] == 0);
  CHECK(manual.ready() == 0);
}

namespace {

struct gate {
  std::atomic<bool> entered{false};
  std::atomic<bool> open{false};
  std::atomic<std::uint64_t> handled{0};
};

class gated : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit gated(gate* g) : g_{g} {}
  void on(const note&) {
    g_->entered.store(true);
    while (!g_->open.load()) std::this_thread::yield();
    g_->handled.fetch_add(1);
  }

 private:
  gate* g_;
};

}  // namespace

TEST_CASE("shutting down a thread_pool system lets the running handler finish and dead-letters the queue") {
  reason_counts letters;
  gate g;
  std::atomic<std::uint64_t> probes_handled{0};
  std::uint64_t probes_sent = 0, probes_refused = 0;
  std::thread opener;
  {
    courier::system sys{{.workers = 2, .on_dead_letter = letters.sink()}};
    auto gated_ref = sys.spawn<gated>(&g);
    auto probe = sys.spawn<counter>(&probes_handled);
    CHECK(gated_ref.send(note{}));
    REQUIRE(wait_until([&] { return g.entered.load(); }, in(30s)));
    for (int i = 0; i < 10; ++i) CHECK(gated_ref.send(note{}));

    // Opens the gate once shutdown has begun, which it detects by the first
    // send that is refused.
    opener = std::thread([&, probe] {
      for (;;) {
        ++probes_sent;
        if (!probe.send(note{})) {
          ++probes_refused;
          break;
        }
        std::this_thread::yield();
      }
      g.open.store(true);
    });
  }  // ~system: shutdown
  opener.join();

  CHECK(g.handled.load() == 1);
  CHECK(probes_refused == 1);
  CHECK(probes_sent == probes_handled.load() + letters[dead_letter_reason::shutdown] - 10);
  CHECK(letters[dead_letter_reason::stopped] == 0);
}

TEST_CASE("live_actors returns to 0 once actors are stopped and their refs dropped") {
  const unsigned workers = GENERATE(0u, 2u);  // 0: manual executor
  CAPTURE(workers);
  std::atomic<std::uint64_t> handled{0};
  courier::manual_executor manual{{.seed = 5}};
  courier::system sys{{.workers = workers, .exec = workers == 0 ? &manual : nullptr}};
  std::vector<courier::actor_ref> refs;
  for (int a = 0; a < 100; ++a) refs.push_back(sys.spawn<counter>(&handled));
  for (std::size_t a = 0; a < refs.size(); a += 2) CHECK(refs[a].send(note{}));
  CHECK(sys.live_actors() == 100);
  CHECK(sys.spawned() == 100);

  for (auto& r : refs) r.stop();
  manual.run();
  REQUIRE(sys.await_idle(in(30s)));
  CHECK(handled.load() + sys.dead_letters().total() == 50);
  CHECK(sys.live_actors() == 100);  // stopped, but still referenced
  refs.resize(10);
  CHECK(sys.live_actors() == 10);
  refs.clear();
  CHECK(sys.live_actors() == 0);
}

namespace {

struct meet {
  courier::actor_ref other;
};

class friendly : public courier::actor {
 public:
  using handles = courier::handles<meet>;
  explicit friendly(std::atomic<int>* alive) : alive_{alive} { alive_->fetch_add(1); }
  ~friendly() { alive_->fetch_sub(1); }
  void on(const meet& m) { friends_.push_back(m.other); }

 private:
  std::atomic<int>* alive_;
  std::vector<courier::actor_ref> friends_;
};

}  // namespace

TEST_CASE("actors holding refs to each other in a cycle are freed at shutdown") {
  const unsigned workers = GENERATE(0u, 2u);  // 0: manual executor
  CAPTURE(workers);
  std::atomic<int> alive{0};
  courier::manual_executor manual{{.seed = 5}};
  courier::system sys{{.workers = workers, .exec = workers == 0 ? &manual : nullptr}};
  {
    std::vector<courier::actor_ref> ring;
    for (int a = 0; a < 8; ++a) ring.push_back(sys.spawn<friendly>(&alive));
    for (std::size_t a = 0; a < ring.size(); ++a) {
      CHECK(ring[a].send(meet{ring[(a + 1) % ring.size()]}));
      CHECK(ring[a].send(meet{ring[a]}));  // and each holds itself
    }
    manual.run();
    REQUIRE(sys.await_idle(in(30s)));
  }
  CHECK(alive.load() == 8);
  CHECK(sys.live_actors() == 8);  // the cycle keeps them alive until shutdown
  sys.shutdown();
  CHECK(alive.load() == 0);
  CHECK(sys.live_actors() == 0);
}

namespace {

// Spawns a partner in its constructor and keeps a ref to it; the partner
// keeps a ref back: a cycle formed without any message.
class entangled : public courier::actor {
 public:
  using handles = courier::handles<note>;
  entangled(std::atomic<int>* alive, courier::actor_ref partner) : alive_{alive}, partner_{std::move(partner)} {
    alive_->fetch_add(1);
    if (!partner_) partner_ = spawn<entangled>(alive_, self());
  }
  ~entangled() { alive_->fetch_sub(1); }
  void on(const note&) {}

 private:
  std::atomic<int>* alive_;
  courier::actor_ref partner_;
};

class late_spawner : public courier::actor {
 public:
  using handles = courier::handles<note>;
  late_spawner(gate* g, std::atomic<int>* alive) : g_{g}, alive_{alive} {}
  void on(const note&) {
    g_->entered.store(true);
    while (!g_->open.load()) std::this_thread::yield();
    spawn<entangled>(alive_, courier::actor_ref{});
    g_->handled.fetch_add(1);
  }

 private:
  gate* g_;
  std::atomic<int>* alive_;
};

}  // namespace

TEST_CASE("actors spawned in a cycle by a handler still running at shutdown are freed too") {
  gate g;
  std::atomic<int> alive{0};
  std::atomic<std::uint64_t> probes{0};
  std::thread opener;
  {
    courier::system sys{{.workers = 2}};
    auto spawner = sys.spawn<late_spawner>(&g, &alive);
    auto probe = sys.spawn<counter>(&probes);
    CHECK(spawner.send(note{}));
    REQUIRE(wait_until([&] { return g.entered.load(); }, in(30s)));
    // Opens the gate once shutdown has begun (the first refused send).
    opener = std::thread([&g, probe] {
      while (probe.send(note{})) std::this_thread::yield();
      g.open.store(true);
    });
  }  // ~system: shutdown
  opener.join();
  CHECK(g.handled.load() == 1);
  CHECK(alive.load() == 0);
}

TEST_CASE("an actor_ref that outlives its system dead-letters sends instead of crashing") {
  std::atomic<std::uint64_t> handled{0};
  courier::actor_ref survivor;
  {
    courier::system sys{{.workers = 2}};
    survivor = sys.spawn<counter>(&handled);
    CHECK(survivor.send(note{}));
    REQUIRE(sys.await_idle(in(30s)));
  }
  CHECK(handled.load() == 1);
  CHECK_FALSE(survivor.send(note{}));
  survivor.stop();
  survivor = {};
}
