#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/histogram.hpp"
#include "courier/runtime/mpsc_queue.hpp"

namespace courier::detail {

/// Adds `by` to a counter that only the calling thread writes: a relaxed
/// load and store, no read-modify-write, so readers see it without a fence.
inline void bump(std::atomic<std::uint64_t>& a, std::uint64_t by = 1) noexcept {
  a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

/// Raises a single-writer maximum.
inline void raise_max(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
  if (v > a.load(std::memory_order_relaxed)) a.store(v, std::memory_order_relaxed);
}

/// One thread's counters for one actor type. Only that thread writes them.
struct type_counters {
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> dequeued{0};
  std::atomic<std::uint64_t> depth_max{0};
  std::atomic<std::uint64_t> restarts{0};
  std::array<std::atomic<std::uint64_t>, dead_letter_reason_count> dead{};
  histogram handler_ns;
  std::uint32_t time_countdown = 1;  // owner-only: the first call is timed
};

/// Actor types get dense indices from 1, process-wide; past this many,
/// further types share the last index (reported as "(other)").
inline constexpr std::uint32_t max_actor_types = 1024;

/// Registers an actor cell's dynamic type; returns its index.
std::uint32_t register_actor_type(const std::type_info& cell_type) noexcept;
/// The readable name of actor type `index` ("(other)" for the overflow slot).
std::string actor_type_name(std::uint32_t index);

/// An actor type's metrics index, cached in its dispatch table. Copies
/// start unassigned and look it up again.
class actor_type_slot {
 public:
  actor_type_slot() noexcept = default;
  actor_type_slot(const actor_type_slot&) noexcept {}
  actor_type_slot& operator=(const actor_type_slot&) noexcept { return *this; }

  /// The index of `cell`'s type, registered on first use. @threadsafe
  template <class Cell>
  [[nodiscard]] std::uint32_t get(const Cell& cell) const noexcept {
    const std::uint32_t i = index_.load(std::memory_order_relaxed);
    if (i != 0) return i;
    // Racing first users register the same type and get the same index.
    const std::uint32_t fresh = register_actor_type(typeid(cell));
    index_.store(fresh, std::memory_order_relaxed);
    return fresh;
  }

 private:
  mutable std::atomic<std::uint32_t> index_{0};
};

/// One thread's counters in one system, for every actor type.
class metrics_shard {
 public:
  metrics_shard() noexcept = default;
  ~metrics_shard();
  metrics_shard(const metrics_shard&) = delete;
  metrics_shard& operator=(const metrics_shard&) = delete;

  /// The counters of actor type `type`. @pre called by the owning thread.
  type_counters& of(std::uint32_t type) {
    type_counters* c = slots_[type].load(std::memory_order_relaxed);
    return c != nullptr ? *c : grow(type);
  }
  /// The counters of `type` if this thread ever touched it. @threadsafe
  [[nodiscard]] const type_counters* peek(std::uint32_t type) const noexcept {
    // acquire: pairs with grow()'s release, so the counters are constructed.
    return slots_[type].load(std::memory_order_acquire);
  }
 private:
  type_counters& grow(std::uint32_t type);

  std::array<std::atomic<type_counters*>, max_actor_types + 1> slots_{};
};

/// The calling thread's last-used shard, tagged with its registry's id.
struct metrics_thread_cache {
  std::uint64_t owner = 0;  // a metrics_registry's id_; ids are never reused
  metrics_shard* shard = nullptr;
};
inline thread_local metrics_thread_cache metrics_cache{};

/// A system's metrics: a shard per thread that touched it, summed on read.
class metrics_registry {
 public:
  explicit metrics_registry(std::uint32_t time_every);
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// The calling thread's shard, created on its first use. @threadsafe
  metrics_shard& local() {
    return metrics_cache.owner == id_ ? *metrics_cache.shard : attach();
  }
  [[nodiscard]] std::uint32_t time_every() const noexcept { return every_; }

  /// Calls `fn(shard)` for every shard, under the registry's lock. @threadsafe
  template <class Fn>
  void for_each_shard(Fn&& fn) const {
    std::lock_guard lock{mutex_};
    for (const auto& [thread, shard] : shards_) fn(*shard);
  }

 private:
  metrics_shard& attach();

  const std::uint64_t id_;
  const std::uint32_t every_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::thread::id, std::unique_ptr<metrics_shard>>> shards_;
};

/// Measures a mailbox's depth from its consumer alone, so producers pay
/// nothing: after each pop the consumer walks the newly linked nodes behind
/// it, counting each node once. The depth at a pop is the nodes counted and
/// not yet popped, plus the popped one. @pre used only by the queue's consumer.
class mailbox_depth_probe {
 public:
  /// Notes that `h` was just popped from `q`; returns the depth it was taken at.
  std::uint64_t popped(const mpsc_hook* h, const mpsc_queue& q) noexcept {
    const mpsc_hook* from = ahead_ > 1 ? scan_ : h;  // with ahead_ == 1, scan_ is h
    if (ahead_ > 0) --ahead_;
    // acquire: pairs with the release link in mpsc_queue::push(), as pop() does.
    for (const mpsc_hook* n = from->next.load(std::memory_order_acquire); n != nullptr;
         n = n->next.load(std::memory_order_acquire)) {
      if (is_stub(n, q)) continue;
      ++ahead_;
      scan_ = n;
    }
    return ahead_ + 1;
  }

 private:
  // The queue's stub is the one node stored inside the queue object itself;
  // the consumer may re-link it at the tail, and it is not a message.
  static bool is_stub(const mpsc_hook* n, const mpsc_queue& q) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(n);
    const auto* lo = reinterpret_cast<const unsigned char*>(&q);
    return !std::less<>{}(p, lo) && std::less<>{}(p, lo + sizeof(mpsc_queue));
  }

  const mpsc_hook* scan_ = nullptr;  // the newest node counted, while ahead_ > 0
  std::uint64_t ahead_ = 0;           // counted nodes not yet popped
};

/// The counters the calling thread last counted a pop in, and whose cell:
/// the handler call that follows the pop reuses them instead of looking up.
struct last_pop {
  const void* cell = nullptr;
  type_counters* counters = nullptr;
};
inline thread_local last_pop last_popped{};

/// Counts a message `cell` took from its mailbox `q`, and the depth it left at.
template <class Cell>
void count_pop(metrics_registry& reg, const Cell& cell, mailbox_depth_probe& probe, const mpsc_hook* h,
               const mpsc_queue& q) noexcept {
  type_counters& c = reg.local().of(cell.metrics_type());
  bump(c.dequeued);
  raise_max(c.depth_max, probe.popped(h, q));
  last_popped = last_pop{&cell, &c};
}

/// Counts one handler call of `cell`'s actor type and times 1 in every
/// time_every() calls per thread and type; does nothing if `reg` is null.
class handler_timer {
 public:
  template <class Cell>
  handler_timer(metrics_registry* reg, const Cell& cell) noexcept {
    if (reg == nullptr) return;
    const last_pop p = last_popped;
    last_popped.cell = nullptr;  // used once: the next call needs the next pop
    counters_ = p.cell == &cell ? p.counters : &reg->local().of(cell.metrics_type());
    bump(counters_->handled);
    if (--counters_->time_countdown == 0) {
      counters_->time_countdown = reg->time_every();
      start_ = std::chrono::steady_clock::now();
    }
  }
  ~handler_timer() {
    if (start_ == std::chrono::steady_clock::time_point{}) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    counters_->handler_ns.record(static_cast<std::uint64_t>(ns.count()));
  }
  handler_timer(const handler_timer&) = delete;
  handler_timer& operator=(const handler_timer&) = delete;

 private:
  type_counters* counters_ = nullptr;
  std::chrono::steady_clock::time_point start_{};  // the epoch when not timed
};

}  // namespace courier::detail
