#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "courier/runtime/executor.hpp"
#include "courier/runtime/random.hpp"
#include "courier/sim/trace.hpp"

namespace courier::sim {

/// The world's executor: manual_executor's seeded choice among the ready
/// runnables, with each choice appended to the trace directly rather than
/// through a callback, since it happens once per actor turn.
/// @pre all calls, including schedule(), come from one thread.
class world_executor final : public executor {
 public:
  world_executor(std::uint64_t seed, sim::trace* turns) noexcept : rng_{seed}, turns_{turns} {}

  void schedule(runnable* r) noexcept override {
    if (ready_ == slots_.size()) [[unlikely]]
      grow();
    slots_[ready_++] = r;
  }

  /// Runs one ready runnable chosen by the seed. False if none was ready.
  bool run_one() noexcept {
    if (ready_ == 0) return false;
    const auto i = static_cast<std::size_t>(rng_.below(ready_));
    if (turns_ != nullptr) turns_->add(event::turn, i, static_cast<std::uint32_t>(ready_));
    runnable* r = slots_[i];
    slots_[i] = slots_[--ready_];  // the last one takes the picked one's place
    r->run();
    return true;
  }

  /// The number of runnables waiting to run.
  [[nodiscard]] std::size_t ready() const noexcept { return ready_; }

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
  [[gnu::noinline]] void grow() { slots_.resize(std::max<std::size_t>(64, slots_.size() * 2)); }

  splitmix64 rng_;
  sim::trace* turns_;             // null when turns are not traced
  std::vector<runnable*> slots_;  // the first ready_ are ready to run, in no order
  std::size_t ready_ = 0;
};

}  // namespace courier::sim
