#pragma once

#include <chrono>

namespace courier {

/// A unit of work an executor can run. Actors are runnables; so are tasks
/// the runtime schedules for itself.
class runnable {
 public:
  /// Runs one turn. @pre the executor runs a given runnable on one thread at a time.
  virtual void run() noexcept = 0;

 protected:
  ~runnable() = default;
};

/// Where runnables run. Actor code cannot tell the implementations apart.
class executor {
 public:
  virtual ~executor() = default;

  /// Queues `r` to run once. The caller keeps `r` alive until it has run.
  /// @threadsafe
  virtual void schedule(runnable* r) noexcept = 0;

  /// Like schedule(), for a runnable that yielded after using its whole
  /// turn: it goes behind the work already queued, so it cannot starve it.
  virtual void yield(runnable* r) noexcept { schedule(r); }

  /// Blocks until nothing is queued or running, or until `deadline`.
  /// Returns true if the executor went idle. @threadsafe
  virtual bool wait_idle(std::chrono::steady_clock::time_point deadline) = 0;

  /// Stops the executor's threads once queued work has run. Idempotent.
  virtual void shutdown() noexcept = 0;

  /// The number of threads running runnables.
  [[nodiscard]] virtual unsigned concurrency() const noexcept = 0;

  /// True if one thread makes every call into this executor, runs every
  /// runnable, and is the only one to send to the actors it runs (a
  /// simulated world). Their mailboxes then skip the locked instructions
  /// that only concurrent senders need (runtime/sharing.hpp).
  [[nodiscard]] virtual bool confined() const noexcept { return false; }

  /// Opens a burst on the calling thread: until the matching end_burst(),
  /// the executor may hold back what this thread schedules and hand it over
  /// all at once, one hand-over and one wake-up for many runnables (a bus
  /// fan-out). Bursts nest. Code inside a burst must not wait for a runnable
  /// scheduled in it without flush_burst() first. The executor must outlive
  /// the bursts opened on it. The default holds nothing back.
  virtual void begin_burst() noexcept {}
  /// Closes the burst begin_burst() opened; the outermost hands over what it held.
  virtual void end_burst() noexcept {}
  /// Hands over what the calling thread's bursts hold, leaving them open:
  /// for code inside a burst that is about to wait, or to run code that may.
  virtual void flush_burst() noexcept {}

  /// Lets other threads run everything the calling thread holds back: what
  /// its bursts hold and, on a thread_pool worker, the runnable queued to run
  /// next on that worker, which no other worker may take. For code that is
  /// about to block until another runnable makes progress (a publish that
  /// waits for room in a subscriber's mailbox): without it the runnable it
  /// waits for may be queued behind it, on its own thread.
  virtual void prepare_to_block() noexcept { flush_burst(); }
};

/// Holds a burst (executor::begin_burst()) open while it lives.
class schedule_burst {
 public:
  explicit schedule_burst(executor& e) noexcept : exec_{e} { exec_.begin_burst(); }
  ~schedule_burst() { exec_.end_burst(); }
  schedule_burst(const schedule_burst&) = delete;
  schedule_burst& operator=(const schedule_burst&) = delete;

 private:
  executor& exec_;
};

}  // namespace courier
