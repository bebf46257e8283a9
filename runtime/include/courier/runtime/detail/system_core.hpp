#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/detail/dead_letter_hub.hpp"
#include "courier/runtime/detail/metrics_registry.hpp"
#include "courier/runtime/executor.hpp"
#include "courier/runtime/timers.hpp"

namespace courier::detail {

class actor_cell;

/// What every actor cell needs from its system. Reference-counted by the
/// system and by each live cell, so a handle that outlives the system can
/// still dead-letter safely.
class system_core {
 public:
  system_core(executor& exec, timer_service& timers, std::uint32_t throughput, dead_letter_sink sink)
      : exec_{&exec}, timers_{&timers}, throughput_{throughput},
        sharing_{exec.confined() ? sharing::confined : sharing::shared},
        sink_{std::move(sink)} {}

  [[nodiscard]] executor& exec() const noexcept { return *exec_; }
  /// How the cells share their state: confined when the executor is (its
  /// confined(), read once), else shared.
  [[nodiscard]] sharing sharing_mode() const noexcept { return sharing_; }
  /// The system's timers; drive idle timeouts and restart backoff.
  [[nodiscard]] timer_service& timers() const noexcept { return *timers_; }
  /// Sinks subscribed to dead letters at run time.
  [[nodiscard]] const std::shared_ptr<dead_letter_hub>& hub() const noexcept { return hub_; }
  [[nodiscard]] std::uint32_t throughput() const noexcept { return throughput_; }
  /// Per-thread metric shards, or nullptr when metrics are off.
  [[nodiscard]] metrics_registry* metrics() const noexcept { return metrics_.get(); }
  /// Turns metrics on, timing 1 in `time_every` handler calls. @pre before any actor is spawned.
  void enable_metrics(std::uint32_t time_every) { metrics_ = std::make_unique<metrics_registry>(time_every); }

  /// True once shutdown began: sends and queued messages become dead letters.
  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  void begin_shutdown() noexcept { stopping_.store(true, std::memory_order_seq_cst); }
  /// Called when the executor has joined: the sink may now be gone.
  void detach() noexcept { detached_.store(true, std::memory_order_release); }
  [[nodiscard]] bool detached() const noexcept { return detached_.load(std::memory_order_acquire); }

  void dead_letter(message_ptr msg, actor_cell* receiver, dead_letter_reason why) noexcept;
  [[nodiscard]] dead_letter_counts dead_letters() const noexcept;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // acq_rel: the last owner must see every other owner's use of the core.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  /// Cells alive now (each holds one reference; the system holds one more).
  [[nodiscard]] std::uint64_t live_cells() const noexcept {
    return refs_.load(std::memory_order_acquire) - 1;
  }

  std::atomic<std::uint64_t> spawned{0};

  /// Adds `c` to the registry of live cells (spawn) or removes it (destroy).
  /// With metrics on, removing folds the cell's counters into its type's totals.
  void enlist(actor_cell* c) noexcept;
  void delist(actor_cell* c) noexcept;
  /// Per-actor-type sums of the per-actor counters (indexed by type): every
  /// live actor's, plus what destroyed ones left. Each actor is counted
  /// exactly once: it is folded under the same lock that this read takes. @threadsafe
  struct cell_sums {
    std::uint64_t handled = 0;
    std::uint64_t depth = 0;
    std::uint64_t depth_max = 0;
  };
  [[nodiscard]] std::vector<cell_sums> sum_cell_counters() const;
  /// Asks every live actor to stop; used by shutdown to break reference cycles.
  void stop_all() noexcept;

 private:
  // The registry is sharded so that spawns on different threads rarely
  // contend for a lock.
  struct alignas(64) shard {
    mutable std::mutex mutex;
    actor_cell* head = nullptr;
    std::vector<retired_counters> retired;  // by actor type; grown on first need
  };
  static constexpr std::size_t shard_count = 16;
  shard& shard_of(const actor_cell* c) noexcept;
  std::array<shard, shard_count> shards_;

  executor* exec_;
  timer_service* timers_;
  std::uint32_t throughput_;
  sharing sharing_;
  dead_letter_sink sink_;
  std::shared_ptr<dead_letter_hub> hub_ = std::make_shared<dead_letter_hub>();
  std::atomic<std::uint64_t> refs_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> detached_{false};
  std::array<std::atomic<std::uint64_t>, dead_letter_reason_count> dead_{};
  std::unique_ptr<metrics_registry> metrics_;
};

}  // namespace courier::detail
