#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

namespace courier {

/// Chase-Lev work-stealing deque: the owner pushes and pops at the bottom
/// (LIFO), thieves steal from the top (FIFO). The memory orders follow Lê,
/// Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing for
/// Weak Memory Models" (PPoPP 2013), with the release fence of push() folded
/// into a release store of bottom_. The buffer grows without bound; retired
/// buffers are kept until the deque dies because a thief may still read one.
template <class T>
class work_stealing_deque {
  static_assert(std::is_trivially_copyable_v<T> && std::atomic<T>::is_always_lock_free,
                "slots are read by thieves racing with the owner, so T must be a lock-free atomic");

 public:
  explicit work_stealing_deque(std::size_t capacity = 256)
      : buffer_{new buffer(round_up(capacity))} {
    retired_.emplace_back(buffer_.load(std::memory_order_relaxed));
  }
  work_stealing_deque(const work_stealing_deque&) = delete;
  work_stealing_deque& operator=(const work_stealing_deque&) = delete;

  /// Pushes at the bottom. @pre called by the owner only.
  void push(T item) {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // acquire: pairs with a thief's CAS on top_, so the slot it freed is reusable.
    std::int64_t t = top_.load(std::memory_order_acquire);
    buffer* buf = buffer_.load(std::memory_order_relaxed);
    if (b - t > static_cast<std::int64_t>(buf->mask)) buf = grow(buf, t, b);
    buf->at(b).store(item, std::memory_order_relaxed);
    // release: publishes the slot (and what `item` points to) to thieves that acquire bottom_.
    bottom_.store(b + 1, std::memory_order_release);
  }

  /// Pops from the bottom, or nothing if empty. @pre called by the owner only.
  std::optional<T> pop() noexcept {
    std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    buffer* buf = buffer_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_relaxed);
    // seq_cst: the reservation of slot b must be visible before we read top_,
    // or a thief and the owner could both take the last item.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return std::nullopt;
    }
    T item = buf->at(b).load(std::memory_order_relaxed);
    if (t == b) {
      // seq_cst CAS: races with thieves for the last item; exactly one wins.
      bool won = top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                              std::memory_order_relaxed);
      bottom_.store(b + 1, std::memory_order_relaxed);
      if (!won) return std::nullopt;
    }
    return item;
  }

  /// Steals from the top. Returns nothing if empty or if it lost a race.
  /// @threadsafe
  std::optional<T> steal() noexcept {
    // acquire: pairs with the CAS of other thieves / the owner on top_.
    std::int64_t t = top_.load(std::memory_order_acquire);
    // seq_cst: orders the read of top_ before bottom_, pairing with pop()'s fence.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // acquire: pairs with push()'s release of bottom_, making the slot visible.
    std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return std::nullopt;
    // acquire: a grown buffer's contents were written before it was published.
    buffer* buf = buffer_.load(std::memory_order_acquire);
    T item = buf->at(t).load(std::memory_order_relaxed);
    // seq_cst CAS: claims slot t against other thieves and the owner's pop.
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed))
      return std::nullopt;
    return item;
  }

  /// An estimate of the number of items; exact when no one else is acting.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    std::int64_t b = bottom_.load(std::memory_order_acquire);
    std::int64_t t = top_.load(std::memory_order_acquire);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }

  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }

 private:
  struct buffer {
    explicit buffer(std::size_t cap) : mask{cap - 1}, slots{new std::atomic<T>[cap]} {}
    std::atomic<T>& at(std::int64_t i) noexcept {
      return slots[static_cast<std::size_t>(i) & mask];
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  static std::size_t round_up(std::size_t n) {
    std::size_t cap = 2;
    while (cap < n) cap <<= 1;
    return cap;
  }

  buffer* grow(buffer* old, std::int64_t t, std::int64_t b) {
    auto* bigger = new buffer((old->mask + 1) * 2);
    for (std::int64_t i = t; i < b; ++i)
      bigger->at(i).store(old->at(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
    retired_.emplace_back(bigger);
    // release: thieves that acquire buffer_ see the copied slots.
    buffer_.store(bigger, std::memory_order_release);
    return bigger;
  }

  static constexpr std::size_t line = 64;
  alignas(line) std::atomic<std::int64_t> top_{0};
  alignas(line) std::atomic<std::int64_t> bottom_{0};
  alignas(line) std::atomic<buffer*> buffer_;
  std::vector<std::unique_ptr<buffer>> retired_;  // owner-only; includes the live buffer
};

}  // namespace courier
