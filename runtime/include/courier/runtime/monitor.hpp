#pragma once

#include <cstdint>
#include <string>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/supervision.hpp"

namespace courier {

/// Identifies one monitor; returned by actor::monitor(), passed to demonitor().
struct monitor_id {
  actor_ref target;
  std::uint64_t seq = 0;
  friend bool operator==(const monitor_id&, const monitor_id&) noexcept = default;
};

/// Sent to a monitoring actor once the monitored actor has stopped.
/// A restart is not a stop: monitors survive it and see nothing.
struct down {
  actor_ref who;
  exit_reason reason = exit_reason::normal;
  std::string what = {};  ///< The exception's text when `reason` is failed.
  std::uint64_t seq = 0;  ///< The seq of the monitor_id that asked for it.
};

/// Sent to an actor that traps exits when an actor linked to it stops.
struct exit_signal {
  actor_ref from;
  exit_reason reason = exit_reason::normal;
  std::string what = {};
};

/// Sent to an actor that asked for an idle timeout and received nothing for
/// that long (see actor::set_idle_timeout).
struct idle_timeout {
  std::uint64_t generation = 0;  ///< Internal: lets a superseded timeout be discarded.
};

}  // namespace courier
