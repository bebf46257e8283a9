// The sim_throughput workloads, written once and run by both implementations:
// in a simulated world on the calling thread (courier.cpp) and on a
// one-worker thread_pool (thread_pool.cpp).
//   pingpong: `pairs` pairs of actors bounce a ball `rounds` times each;
//   fanout:   a publisher publishes `publishes` messages, `batch` per turn, on a
//             subject that `subscribers` actor subscriptions match; once its
//             subscribers have handled a batch, it is asked for the next.
//             The load is closed, as ping-pong is: a publisher that fed
//             itself would run ahead of its subscribers until every message
//             was queued (a 120 MB backlog), and the run would time page
//             faults more than messaging.
// A delivery is one message handled by an actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <courier/courier.hpp>

#include "harness.hpp"

namespace courier::bench::sim_throughput {

struct sizes {
  std::uint64_t pairs = 100;
  std::uint64_t rounds = 10'000;
  std::uint64_t subscribers = 64;
  std::uint64_t publishes = 50'000;
  std::uint64_t batch = 16;
};
inline sizes sizes_for(const options& o) {
  sizes s;
  if (o.quick) {
    s.rounds /= 10;
    s.publishes /= 10;
  }
  return s;
}

/// Counts deliveries and calls `done` once the expected number is reached,
/// and `paced` after every `pace` deliveries before that, if set.
struct counter {
  std::uint64_t expected = 0;
  std::uint64_t seen = 0;  // touched by one thread at a time: the world's, or the one worker
  std::function<void()> done;
  std::uint64_t pace = 0;
  std::uint64_t until_paced = 0;
  std::function<void()> paced;
  void add() {
    if (++seen == expected) {
      if (done) done();
    } else if (until_paced != 0 && --until_paced == 0) {
      until_paced = pace;
      paced();
    }
  }
};

struct ball {
  std::uint64_t left;
};
struct partner {
  actor_ref other;
};

class bouncer : public actor {
 public:
  using handles = courier::handles<partner, ball>;
  explicit bouncer(counter& c) : count_{c} {}
  void on(const partner& p) { other_ = p.other; }
  void on(const ball& b) {
    count_.add();
    if (b.left > 0) other_.send(ball{b.left - 1});
  }

 private:
  counter& count_;
  actor_ref other_;
};

struct item {
  std::uint64_t n;
};
struct next_batch {};

class sink : public actor {
 public:
  using handles = courier::handles<item>;
  explicit sink(counter& c) : count_{c} {}
  void on(const item&) { count_.add(); }

 private:
  counter& count_;
};

class publisher : public actor {
 public:
  using handles = courier::handles<next_batch>;
  publisher(courier::bus& b, sizes s) : bus_{b}, s_{s} {}
  void on(const next_batch&) {
    for (std::uint64_t i = 0; i < s_.batch && sent_ < s_.publishes; ++i) (void)bus_.publish("fan.out", item{sent_++});
  }

 private:
  courier::bus& bus_;
  sizes s_;
  std::uint64_t sent_ = 0;
};

/// What a running load needs kept alive.
struct keep {
  std::vector<actor_ref> actors;
  std::vector<subscription> subs;
};

enum class load { pingpong, fanout };

/// The deliveries a load makes.
inline std::uint64_t deliveries(load w, const sizes& s) {
  return w == load::pingpong ? s.pairs * s.rounds * 2 : s.subscribers * s.publishes;
}

/// Sets a load going on `sys` and `bus`; its actors count into `c`.
inline void start(load w, system& sys, courier::bus& bus, const sizes& s, counter& c, keep& k) {
  if (w == load::pingpong) {
    for (std::uint64_t p = 0; p < s.pairs; ++p) {
      auto a = sys.spawn<bouncer>(c);
      auto b = sys.spawn<bouncer>(c);
      a.send(partner{b});
      b.send(partner{a});
      a.send(ball{s.rounds * 2 - 1});
      k.actors.push_back(a);
      k.actors.push_back(b);
    }
    return;
  }
  for (std::uint64_t i = 0; i < s.subscribers; ++i)
    k.subs.push_back(std::move(bus.subscribe<item>("fan.*", sys.spawn<sink>(c)).value()));
  auto pub = sys.spawn<publisher>(bus, s);
  c.pace = c.until_paced = s.batch * s.subscribers;
  c.paced = [pub] { pub.send(next_batch{}); };
  pub.send(next_batch{});
  k.actors.push_back(pub);
}

/// Fills the result: ops = all deliveries, plus each load's rate.
inline result report(std::uint64_t ping, double ping_s, std::uint64_t fan, double fan_s) {
  result r;
  r.ops = ping + fan;
  r.seconds = ping_s + fan_s;
  r.extra.emplace_back("pingpong_deliveries_per_sec", static_cast<double>(ping) / ping_s);
  r.extra.emplace_back("fanout_deliveries_per_sec", static_cast<double>(fan) / fan_s);
  return r;
}

}  // namespace courier::bench::sim_throughput
