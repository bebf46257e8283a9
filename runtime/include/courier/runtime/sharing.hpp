#pragma once

#include <atomic>

namespace courier {

/// Whether other threads can touch a runtime structure. A `confined` caller
/// promises that one thread makes every call (a simulated world), so a
/// read-modify-write can be a plain load and store: on x86 that saves the
/// locked instruction and the store-buffer drain it forces, a few
/// nanoseconds each, several times per message. The values stay atomics, so
/// the shared code path and the confined one read the same fields.
enum class sharing : bool { shared, confined };

/// The atomic operations the runtime's hot paths use, for either sharing.
/// With `shared` each is the std::atomic operation with the given order.
template <sharing S>
struct atomics {
  template <class T>
  static T exchange(std::atomic<T>& a, T v, std::memory_order o) noexcept {
    if constexpr (S == sharing::confined) {
      const T old = a.load(std::memory_order_relaxed);
      a.store(v, std::memory_order_relaxed);
      return old;
    } else {
      return a.exchange(v, o);
    }
  }

  template <class T>
  static void store(std::atomic<T>& a, T v, std::memory_order o) noexcept {
    a.store(v, S == sharing::confined ? std::memory_order_relaxed : o);
  }

  template <class T>
  static T fetch_add(std::atomic<T>& a, T v, std::memory_order o) noexcept {
    if constexpr (S == sharing::confined) {
      const T old = a.load(std::memory_order_relaxed);
      a.store(static_cast<T>(old + v), std::memory_order_relaxed);
      return old;
    } else {
      return a.fetch_add(v, o);
    }
  }

  template <class T>
  static T fetch_sub(std::atomic<T>& a, T v, std::memory_order o) noexcept {
    if constexpr (S == sharing::confined) {
      const T old = a.load(std::memory_order_relaxed);
      a.store(static_cast<T>(old - v), std::memory_order_relaxed);
      return old;
    } else {
      return a.fetch_sub(v, o);
    }
  }
};

/// Adds `v` to a counter (relaxed), with the sharing chosen at run time.
template <class T>
void count(std::atomic<T>& a, T v, sharing s) noexcept {
  if (s == sharing::confined)
    atomics<sharing::confined>::fetch_add(a, v, std::memory_order_relaxed);
  else
    a.fetch_add(v, std::memory_order_relaxed);
}

}  // namespace courier
