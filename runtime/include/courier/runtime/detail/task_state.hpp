#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "courier/runtime/task.hpp"

namespace courier::detail {

/// A cell's suspended handler coroutines and the wake-ups waiting for its
/// next turn. Allocated when the actor first starts a coroutine handler, so
/// other actors pay one pointer; freed with the cell.
struct task_state {
  // Shared with wakers on other threads.
  std::mutex mutex;
  std::vector<std::uint64_t> woken;  // guarded by mutex: waker ids, in wake order
  std::atomic<bool> pending{false};  // woken is not empty

  // Turn-owned.
  std::vector<task_frame> live;  // suspended handler coroutines, oldest first
  task_frame started;            // left suspended by the handler that is returning
  std::uint32_t holding = 0;     // live frames of plain (not reentrant) tasks
  std::uint64_t next_id = 1;     // waker ids; never reused, so a stale wake finds nothing
};

}  // namespace courier::detail
