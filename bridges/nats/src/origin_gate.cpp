#include "origin_gate.hpp"

#include <thread>

namespace courier::nats_detail {

bool origin_gate::begin_bare() noexcept {
  if (subscriptions_.load(std::memory_order_relaxed) != 0) return false;  // the common answer, without a write
  // seq_cst: the announcement and the check below are ordered against add()'s count and wait.
  bare_in_flight_.fetch_add(1, std::memory_order_seq_cst);
  if (subscriptions_.load(std::memory_order_seq_cst) == 0) return true;
  end_bare();
  return false;
}

void origin_gate::end_bare() noexcept {
  // release: add()'s wait acquires it, so the message is written before the SUB.
  bare_in_flight_.fetch_sub(1, std::memory_order_release);
}

void origin_gate::add() noexcept {
  subscriptions_.fetch_add(1, std::memory_order_seq_cst);
  // Publishes that start now see the count; the ones already in flight are short.
  while (bare_in_flight_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

void origin_gate::remove() noexcept { subscriptions_.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace courier::nats_detail
