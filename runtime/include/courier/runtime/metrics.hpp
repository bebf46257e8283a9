#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/histogram.hpp"
#include "courier/runtime/prometheus_writer.hpp"

namespace courier {

namespace detail {
class system_core;
}

/// One actor type's counters, or the whole system's, summed over threads.
struct actor_metrics {
  std::string type;                   ///< The actor's C++ type; empty for the system total.
  std::uint64_t handled = 0;          ///< Handler calls, including ones that threw.
  std::uint64_t mailbox_depth = 0;    ///< Messages queued now, over every actor of the type.
  std::uint64_t mailbox_depth_max = 0;  ///< Deepest one mailbox was when a message left it.
  std::uint64_t restarts = 0;         ///< Completed supervised restarts.
  dead_letter_counts dead_letters;    ///< Dead letters addressed to actors of the type.
  /// Handler wall time in nanoseconds, of 1 in `handler_time_every` calls
  /// per thread (count() is the number of timed calls, not of all calls).
  histogram_snapshot handler_ns;
};

/// A system's metrics at one moment (system::metrics().snapshot()).
struct metrics_snapshot {
  bool enabled = false;                 ///< system_config::metrics; if false only the totals below are kept.
  std::uint32_t handler_time_every = 0;  ///< One handler call in this many is timed.
  std::vector<actor_metrics> types;     ///< Per actor type, by type name.
  actor_metrics total;                  ///< The sum over types; its dead_letters count every dead letter.
  std::uint64_t timers_pending = 0;     ///< Timers started and neither fired nor cancelled.
  std::uint64_t spawned = 0;            ///< Actors spawned so far.
  std::uint64_t live_actors = 0;        ///< Actor cells still allocated.
};

/// Appends `s` to `w` as the `courier_*` metric families (docs/runtime.md, "Metrics").
void write_prometheus(prometheus_writer& w, const metrics_snapshot& s);

/// The metrics of one system (system::metrics()). Reading never blocks a
/// running actor: each actor keeps its own per-message counts, each thread
/// its own rarer ones, and a read sums them (docs/runtime.md, "Metrics"). While
/// actors run, the figures of different counters are read at slightly
/// different instants; once the system is idle they are exact.
class metrics_view {
 public:
  explicit metrics_view(const detail::system_core& core) noexcept : core_{&core} {}

  /// Every counter, summed now. @threadsafe
  [[nodiscard]] metrics_snapshot snapshot() const;
  /// snapshot() in the Prometheus text exposition format. @threadsafe
  [[nodiscard]] std::string to_prometheus() const;

 private:
  const detail::system_core* core_;
};

}  // namespace courier
