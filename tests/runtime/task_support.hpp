#pragma once

// Helpers shared by the coroutine-handler tests of the runtime and the bus.

namespace courier::test {

/// Counts the coroutine frames alive that hold one: a frame destroyed while
/// suspended runs its destructor, so a count back at zero shows no leak.
struct frame_guard {
  int& alive;
  explicit frame_guard(int& a) : alive{a} { ++alive; }
  ~frame_guard() { --alive; }
  frame_guard(const frame_guard&) = delete;
  frame_guard& operator=(const frame_guard&) = delete;
};

}  // namespace courier::test
