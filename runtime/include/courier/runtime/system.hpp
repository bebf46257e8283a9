#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/executor.hpp"
#include "courier/runtime/metrics.hpp"
#include "courier/runtime/timers.hpp"

namespace courier {

struct system_config {
  /// Worker threads of the built-in thread_pool; 0 means one per hardware thread.
  unsigned workers = 0;
  /// Messages an actor handles per turn before it yields its worker.
  std::uint32_t throughput = 64;
  /// Run on this executor instead of a built-in thread_pool (for example a
  /// manual_executor). It must outlive the system.
  executor* exec = nullptr;
  /// Timers for delayed sends and timeouts; default: real time, one thread.
  /// Pass a virtual_timers for deterministic runs. It must outlive the system.
  timer_service* timers = nullptr;
  /// Sees every dead letter, on the thread that produced it. More sinks can
  /// be added at run time with system::subscribe_dead_letters().
  dead_letter_sink on_dead_letter = {};
  /// Keep per-actor-type counters (system::metrics(); docs/runtime.md, "Metrics").
  bool metrics = false;
  /// With metrics on, time 1 in this many handler calls per thread (1: all).
  std::uint32_t metrics_time_every = 256;
};

/// An actor system: the executor its actors run on, and their dead letters.
///
/// Destroying a system shuts it down: handlers already running finish, and
/// every message still queued, or sent afterwards, becomes a dead letter
/// with reason `shutdown`. Call await_idle() first to let queued work finish.
class system {
 public:
  explicit system(system_config cfg);
  system() : system(system_config{}) {}
  ~system();
  system(const system&) = delete;
  system& operator=(const system&) = delete;

  /// Creates an actor of type A constructed from `args`. If its handler
  /// throws, it stops with reason `failed`. @threadsafe
  template <class A, class... Args>
    requires(!detail::leads_with_supervision<Args...>)
  actor_ref spawn(Args&&... args) {
    return detail::spawn<A>(*core_, std::forward<Args>(args)...);
  }

  /// Creates a supervised top-level actor: if its handler throws, `spec`
  /// decides (restart, restart with backoff, stop; escalating past the top
  /// stops it). Restarts build a new A from copies of `args`. @threadsafe
  template <class A, class... Args>
  actor_ref spawn(const supervision& spec, Args&&... args) {
    return detail::spawn_supervised<A>(*core_, nullptr, spec, std::forward<Args>(args)...);
  }

  /// Subscribes `sink` to every dead letter from now on, on the thread that
  /// produced it, until the returned handle is destroyed. @threadsafe
  /// @pre `sink` must not block and must not throw.
  [[nodiscard]] dead_letter_subscription subscribe_dead_letters(dead_letter_sink sink);

  /// Waits until no actor is scheduled or running, or until `deadline`.
  /// True if the system went idle. @threadsafe
  bool await_idle(std::chrono::steady_clock::time_point deadline);
  bool await_idle(std::chrono::steady_clock::duration timeout = std::chrono::seconds(30)) {
    return await_idle(std::chrono::steady_clock::now() + timeout);
  }

  /// Shuts down as described above. Idempotent; the destructor calls it.
  /// @pre not called from inside an actor.
  void shutdown() noexcept;

  /// Dead letters so far, by reason. @threadsafe
  [[nodiscard]] dead_letter_counts dead_letters() const noexcept { return core_->dead_letters(); }

  /// This system's metrics: snapshot() and to_prometheus(). @threadsafe
  [[nodiscard]] metrics_view metrics() const noexcept { return metrics_view{*core_}; }

  /// Actors spawned so far. @threadsafe
  [[nodiscard]] std::uint64_t spawned() const noexcept {
    return core_->spawned.load(std::memory_order_relaxed);
  }

  /// Actor cells still allocated (running, or stopped but still referenced).
  [[nodiscard]] std::uint64_t live_actors() const noexcept { return core_->live_cells(); }

  [[nodiscard]] executor& exec() const noexcept { return core_->exec(); }
  [[nodiscard]] timer_service& timers() const noexcept { return *timers_; }

 private:
  std::unique_ptr<executor> owned_exec_;
  std::unique_ptr<timer_service> owned_timers_;
  timer_service* timers_;
  detail::system_core* core_;
};

}  // namespace courier
