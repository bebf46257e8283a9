// Helpers shared by the Courier implementations of the scenarios.
#pragma once

#include <atomic>
#include <chrono>
#include <stdexcept>

#include <courier/runtime.hpp>

#include "harness.hpp"

namespace courier::bench {

/// A one-shot flag a handler raises and the driver thread waits on.
class done_flag {
 public:
  void raise() noexcept {
    done_.store(true, std::memory_order_release);
    done_.notify_all();
  }
  void wait() const noexcept {
    while (!done_.load(std::memory_order_acquire)) done_.wait(false, std::memory_order_acquire);
  }

 private:
  std::atomic<bool> done_{false};
};

/// The system every Courier scenario runs on: two workers, like the machine.
inline system_config bench_system() { return system_config{.workers = workers}; }

}  // namespace courier::bench
