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

/// The world's executor: a seeded choice among the ready runnables, each
/// choice appended to the trace directly rather than through a callback,
/// since it happens once per actor turn. With schedule::rounds a runnable
/// made ready during a round waits in `next_` for the round after it.
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
    if (ready_.empty()) {
      if (next_.empty()) return false;
      ready_.swap(next_);  // a new round: everything that became ready during the last one
    }
    const auto i = static_cast<std::size_t>(rng_.below(ready_.size()));
    if (turns_ != nullptr) turns_->add(event::turn, i, static_cast<std::uint32_t>(ready_.size()));
    runnable* r = ready_[i];
    ready_[i] = ready_.back();  // the last one takes the picked one's place
    ready_.pop_back();
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

 private:
  splitmix64 rng_;
  sim::trace* turns_;  // null when turns are not traced
  sim::schedule order_;
  std::vector<runnable*> ready_;  // the runnables the seed picks among, in no order
  std::vector<runnable*> next_;   // schedule::rounds: made ready during this round
};

}  // namespace courier::sim
