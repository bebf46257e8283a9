#pragma once

#include <atomic>

#include "courier/runtime/sharing.hpp"

namespace courier {

/// The link a type embeds to live in an mpsc_queue.
struct mpsc_hook {
  std::atomic<mpsc_hook*> next{nullptr};
};

/// Intrusive multi-producer single-consumer FIFO queue.
///
/// Dmitry Vyukov's node-based MPSC queue ("Intrusive MPSC node-based queue",
/// 1024cores.net): a push is one atomic exchange plus one store, so it is
/// wait-free; a pop is lock-free for the single consumer. A producer that has
/// swapped `back_` but not yet linked its node leaves the queue briefly
/// "in flight": pop() then returns nullptr although empty() is false.
class mpsc_queue {
 public:
  mpsc_queue() noexcept : back_{&stub_}, front_{&stub_} {}
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  /// Appends `node`. Wait-free. @threadsafe with `sharing::shared`.
  template <sharing S = sharing::shared>
  void push(mpsc_hook* node) noexcept {
    node->next.store(nullptr, std::memory_order_relaxed);
    // seq_cst: orders this claim before the producer's later read of the
    // owner's "scheduled" flag (Dekker pattern with the consumer's empty()).
    mpsc_hook* prev = atomics<S>::exchange(back_, node, std::memory_order_seq_cst);
    // release: publishes the node's contents to the consumer's acquire in pop().
    prev->next.store(node, std::memory_order_release);
  }

  /// The node the next pop() returns, if it is already known; nullptr
  /// otherwise. @pre only the single consumer calls it.
  [[nodiscard]] mpsc_hook* peek() const noexcept { return front_ == &stub_ ? nullptr : front_; }

  /// Removes the oldest node, or returns nullptr if none is fully linked yet.
  /// @pre only the single consumer calls pop() and empty(); with
  /// `sharing::confined`, no producer runs on another thread either.
  template <sharing S = sharing::shared>
  mpsc_hook* pop() noexcept {
    mpsc_hook* front = front_;
    // acquire: pairs with the release link in push().
    mpsc_hook* next = front->next.load(std::memory_order_acquire);
    if (front == &stub_) {
      if (next == nullptr) return nullptr;
      front_ = front = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      front_ = next;
      return front;
    }
    // seq_cst: see push(); a node claimed after the last link may be in flight.
    if (front != back_.load(std::memory_order_seq_cst)) return nullptr;
    push<S>(&stub_);
    next = front->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      front_ = next;
      return front;
    }
    return nullptr;
  }

  /// True if the consumer has popped every linked node. Take this while
  /// still the consumer; pair it with nothing_claimed() after handing off.
  [[nodiscard]] bool consumer_drained() const noexcept { return front_ == &stub_; }

  /// True if no producer has claimed a slot since the consumer last drained.
  /// Reads only the producers' atomic, so any thread may call it. @threadsafe
  [[nodiscard]] bool nothing_claimed() const noexcept {
    // seq_cst: the consumer's half of the Dekker pattern described in push().
    return back_.load(std::memory_order_seq_cst) == &stub_;
  }

  /// True if no node has been pushed and not yet popped, including in-flight
  /// pushes. @pre called by the consumer.
  [[nodiscard]] bool empty() const noexcept {
    // seq_cst: the consumer's half of the Dekker pattern described in push().
    // front_ is the stub exactly when every linked node has been popped; back_
    // is the stub exactly when nothing was claimed after it.
    return front_ == &stub_ && back_.load(std::memory_order_seq_cst) == &stub_;
  }

 private:
  // Not padded to separate cache lines: a mailbox lives in every actor, and
  // at 10^6 actors the padding would cost more than the false sharing saves.
  std::atomic<mpsc_hook*> back_;  // producers swap here
  mpsc_hook* front_;              // consumer-owned
  mpsc_hook stub_;
};

}  // namespace courier
