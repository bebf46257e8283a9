#pragma once

#include <cstdint>
#include <memory>

#include "courier/runtime/executor.hpp"

namespace courier {

/// A work-stealing pool of worker threads.
///
/// Each worker owns a Chase-Lev deque and a LIFO slot: a runnable scheduled
/// from a worker goes into that worker's LIFO slot and runs next, so a
/// message sent to an idle actor is handled on the same core while its data
/// is still in cache. Threads outside the pool submit through a shared
/// injection queue. A worker with nothing to do steals from a random victim,
/// then parks on a futex; parking never loses a wake-up and never polls.
class thread_pool final : public executor {
 public:
  struct config {
    unsigned workers = 0;       ///< 0 means one per hardware thread.
    std::uint64_t seed = 0x5eed;  ///< Seeds victim selection.
  };

  struct stats {
    std::uint64_t parks = 0;   ///< Times a worker went to sleep.
    std::uint64_t steals = 0;  ///< Runnables taken from another worker.
  };

  explicit thread_pool(config cfg);
  thread_pool() : thread_pool(config{}) {}
  ~thread_pool() override;

  void schedule(runnable* r) noexcept override;
  void yield(runnable* r) noexcept override;
  /// From outside the pool, a burst holds what it schedules and injects it
  /// in one bulk enqueue with one wake-up; on a worker, it wakes a sleeper
  /// once at the end rather than for every runnable the worker queues.
  void begin_burst() noexcept override;
  void end_burst() noexcept override;
  void flush_burst() noexcept override;
  /// On a worker, also moves the runnable in its LIFO slot to its deque and
  /// wakes a sleeper to steal it.
  void prepare_to_block() noexcept override;
  bool wait_idle(std::chrono::steady_clock::time_point deadline) override;
  /// @pre not called from one of this pool's workers.
  void shutdown() noexcept override;
  [[nodiscard]] unsigned concurrency() const noexcept override;

  /// Counters summed over the workers. @threadsafe
  [[nodiscard]] stats statistics() const noexcept;

  /// The number of parked workers at this instant. @threadsafe
  [[nodiscard]] unsigned parked() const noexcept;

  /// Index of the calling worker of this pool, or -1 from any other thread.
  [[nodiscard]] int current_worker() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace courier
