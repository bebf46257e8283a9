#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/histogram.hpp"

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

/// One thread's counters for one actor type: the rare events (restarts,
/// dead letters) and the sampled handler times. Only that thread writes them.
struct type_counters {
  std::atomic<std::uint64_t> restarts{0};
  std::array<std::atomic<std::uint64_t>, dead_letter_reason_count> dead{};
  histogram handler_ns;
};

/// One actor's per-message counters. They live with the actor, so counting a
/// message needs no lookup: producers add to `sent` (one relaxed add on the
/// cache line their push already wrote), and only the thread running the
/// actor's turn writes the rest, with a relaxed load and store. Turns are
/// handed from worker to worker with acquire/release, so each turn sees the
/// last one's writes. A read sums every live actor's block, plus the totals
/// folded in from actors already destroyed.
struct cell_counters {
  explicit cell_counters(std::uint32_t actor_type) noexcept : type{actor_type} {}

  /// Counts a message about to be pushed into the mailbox. @threadsafe
  void pushed() noexcept { sent.fetch_add(1, std::memory_order_relaxed); }
  /// Counts a message just popped and notes the depth it left at (it included).
  /// @pre called in the actor's turn.
  void popped() noexcept {
    const std::uint64_t before = taken.load(std::memory_order_relaxed);
    // The pusher's add is sequenced before its release link, which our pop
    // acquired, so `sent` already counts this message and every earlier one.
    raise_max(depth_max, sent.load(std::memory_order_relaxed) - before);
    taken.store(before + 1, std::memory_order_relaxed);
  }
  /// Messages pushed and not yet popped, as far as a reader can tell. @threadsafe
  [[nodiscard]] std::uint64_t depth() const noexcept {
    const std::uint64_t t = taken.load(std::memory_order_relaxed);
    const std::uint64_t s = sent.load(std::memory_order_relaxed);
    return s > t ? s - t : 0;  // two loads: a later pop may be seen before its push
  }

  std::atomic<std::uint64_t> sent{0};       // producers
  std::atomic<std::uint64_t> taken{0};      // the turn owner
  std::atomic<std::uint64_t> handled{0};    // the turn owner
  std::atomic<std::uint64_t> depth_max{0};  // the turn owner
  const std::uint32_t type;                 // the actor type's index
};

/// What destroyed actors of one type leave to the totals.
struct retired_counters {
  std::uint64_t handled = 0;
  std::uint64_t depth_max = 0;
};

/// Actor types get dense indices from 1, process-wide; past this many,
/// further types share the last index (reported as "(other)").
inline constexpr std::uint32_t max_actor_types = 1024;

/// Registers an actor type; returns its index. @threadsafe
std::uint32_t register_actor_type(const std::type_info& type) noexcept;
/// The readable name of actor type `index` ("(other)" for the overflow slot).
std::string actor_type_name(std::uint32_t index);

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

/// The calling thread's last-used shard, tagged with its registry's id, and
/// how many handler calls until the next one this thread times for it.
struct metrics_thread_cache {
  std::uint64_t owner = 0;  // a metrics_registry's id_; ids are never reused
  metrics_shard* shard = nullptr;
  std::uint32_t time_countdown = 0;
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
  /// The calling thread's cache entry for this registry. @threadsafe
  metrics_thread_cache& cache() {
    if (metrics_cache.owner != id_) attach();
    return metrics_cache;
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

/// Counts one handler call of an actor and times 1 in every time_every()
/// calls per thread; does nothing if `c` is null (metrics off).
class handler_timer {
 public:
  handler_timer(metrics_registry* reg, cell_counters* c) noexcept {
    if (c == nullptr) return;
    bump(c->handled);
    metrics_thread_cache& cache = reg->cache();
    if (--cache.time_countdown != 0) return;
    cache.time_countdown = reg->time_every();
    reg_ = reg;
    type_ = c->type;
    start_ = std::chrono::steady_clock::now();
  }
  ~handler_timer() {
    if (reg_ == nullptr) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    reg_->local().of(type_).handler_ns.record(static_cast<std::uint64_t>(ns.count()));
  }
  handler_timer(const handler_timer&) = delete;
  handler_timer& operator=(const handler_timer&) = delete;

 private:
  metrics_registry* reg_ = nullptr;  // set only when this call is timed
  std::uint32_t type_ = 0;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace courier::detail
