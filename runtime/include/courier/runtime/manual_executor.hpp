#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "courier/runtime/executor.hpp"
#include "courier/runtime/random.hpp"

namespace courier {

/// A single-threaded, deterministic executor. Nothing runs until the owner
/// calls run_one() or run(); among the ready runnables a seeded generator
/// picks which goes next, so a seed fixes the interleaving and the same seed
/// always gives the same order.
/// @pre all calls, including schedule(), come from one thread.
class manual_executor final : public executor {
 public:
  struct config {
    std::uint64_t seed = 0;
    /// Called before each turn with the number of ready runnables and the
    /// index the seed picked among them; a trace of these fixes the schedule.
    std::function<void(std::size_t ready, std::size_t picked)> on_turn = {};
  };

  explicit manual_executor(config cfg) : rng_{cfg.seed}, on_turn_{std::move(cfg.on_turn)} {}
  manual_executor() : manual_executor(config{}) {}

  void schedule(runnable* r) noexcept override { ready_.push_back(r); }

  /// Runs one ready runnable chosen by the seed. False if none was ready.
  bool run_one() noexcept;

  /// Runs until nothing is ready or `limit` turns have run; returns the turns run.
  std::size_t run(std::size_t limit = std::numeric_limits<std::size_t>::max()) noexcept;

  /// The number of runnables waiting to run.
  [[nodiscard]] std::size_t ready() const noexcept { return ready_.size(); }

  /// Runs everything that is ready: the deterministic way to "wait".
  bool wait_idle(std::chrono::steady_clock::time_point) override {
    run();
    return true;
  }
  void shutdown() noexcept override { run(); }
  [[nodiscard]] unsigned concurrency() const noexcept override { return 1; }

 private:
  splitmix64 rng_;
  std::function<void(std::size_t, std::size_t)> on_turn_;
  std::vector<runnable*> ready_;
};

}  // namespace courier
