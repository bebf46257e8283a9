#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "courier/runtime/executor.hpp"
#include "courier/runtime/random.hpp"
#include "courier/sim/trace.hpp"
#include "courier/sim/world.hpp"

namespace courier::sim {

/// The world's executor: a seeded order among the ready runnables, appended
/// to the trace directly rather than through a callback. Under
/// schedule::rounds a runnable made ready during a round waits in `next_`
/// for the round after it; each round is shuffled when it begins and traced
/// as one record, since its order follows from its size and the random
/// state it is shuffled from. Under
/// schedule::uniform every turn is an independent pick, traced on its own.
/// @pre all calls, including schedule(), come from one thread.
class world_executor final : public executor {
 public:
  world_executor(std::uint64_t seed, sim::schedule order, sim::trace* turns) noexcept
      : rng_{seed}, turns_{turns}, order_{order} {}

  void schedule(runnable* r) noexcept override {
    (order_ == sim::schedule::rounds ? next_ : ready_).push_back(r);
  }

  /// Runs one ready runnable chosen by the seed. False if none was ready.
  bool run_one() noexcept {
    runnable* r = order_ == sim::schedule::rounds ? next_in_round() : pick_uniform();
    if (r == nullptr) return false;
    r->run();
    return true;
  }

  /// The number of runnables waiting to run.
  [[nodiscard]] std::size_t ready() const noexcept { return ready_.size() + next_.size(); }

  /// Runs everything that is ready: the deterministic way to "wait".
  bool wait_idle(std::chrono::steady_clock::time_point) override {
    while (run_one()) {
    }
    return true;
  }
  void shutdown() noexcept override {
    while (run_one()) {
    }
  }
  [[nodiscard]] unsigned concurrency() const noexcept override { return 1; }
  [[nodiscard]] bool confined() const noexcept override { return true; }

 private:
  /// The next runnable of the current round, starting a round if it is over.
  runnable* next_in_round() noexcept {
    if (ready_.empty()) {
      if (next_.empty()) return nullptr;
      ready_.swap(next_);
      // The state and the size fix the order, so the trace holds both.
      if (turns_ != nullptr) turns_->add(event::round, rng_.state(), static_cast<std::uint32_t>(ready_.size()));
      // Fisher-Yates; the round then runs from the back.
      for (std::size_t i = ready_.size(); i > 1; --i) std::swap(ready_[i - 1], ready_[rng_.below(i)]);
    }
    runnable* r = ready_.back();
    ready_.pop_back();
    // The round's order is known ahead, unlike a pool's: start loading the
    // next runnable while this one runs. A shuffled round visits actors all
    // over memory, so each turn would otherwise begin with cache misses.
    if (!ready_.empty()) {
      const auto* next = reinterpret_cast<const char*>(ready_.back());
      __builtin_prefetch(next);
      __builtin_prefetch(next + 64);
    }
    return r;
  }

  runnable* pick_uniform() noexcept {
    if (ready_.empty()) return nullptr;
    const auto i = static_cast<std::size_t>(rng_.below(ready_.size()));
    if (turns_ != nullptr) turns_->add(event::turn, i, static_cast<std::uint32_t>(ready_.size()));
    runnable* r = ready_[i];
    ready_[i] = ready_.back();  // the last one takes the picked one's place
    ready_.pop_back();
    return r;
  }

  splitmix64 rng_;
  sim::trace* turns_;  // null when turns are not traced
  sim::schedule order_;
  std::vector<runnable*> ready_;  // rounds: the current round, run from the back; uniform: all ready, in no order
  std::vector<runnable*> next_;   // rounds: made ready during this round
};

}  // namespace courier::sim
