#pragma once

#include <chrono>
#include <cstdint>

#include "courier/runtime/clock.hpp"

namespace courier {

/// Why an actor stopped. Carried by `down` and `exit_signal` messages.
enum class exit_reason : std::uint8_t {
  normal,    ///< It called stop() on itself.
  stopped,   ///< Something else stopped it: actor_ref::stop(), or a supervisor applying `stop`.
  failed,    ///< A handler threw, or an actor it was linked to failed; the text says what.
  shutdown,  ///< Its parent stopped, or the system shut down.
};

/// "normal", "stopped", "failed" or "shutdown".
const char* to_string(exit_reason r) noexcept;

/// What happens to an actor whose handler threw.
enum class strategy : std::uint8_t {
  stop,                  ///< Stop it with reason `failed`.
  restart,               ///< Build a fresh instance at once; same address, mailbox kept.
  restart_with_backoff,  ///< Like restart, after a growing delay (see backoff_policy).
  escalate,              ///< Stop it and fail its parent with the child's error.
};

/// Exponential backoff with jitter between restarts. Restart k (from 0)
/// waits min(min·multiplier^k, max), scaled by a random factor in
/// [1 - jitter, 1 + jitter] (so delays at the cap still spread out), and
/// always clamped to [min, max]. Once an instance has run for `reset_after`
/// without failing, the next restart waits `min` again.
struct backoff_policy {
  duration min = std::chrono::milliseconds{10};
  duration max = std::chrono::seconds{10};
  double multiplier = 2.0;
  double jitter = 0.2;
  duration reset_after = std::chrono::seconds{30};
  /// Seeds the jitter, so a run under virtual time is reproducible.
  std::uint64_t seed = 0;
};

/// At most `max_restarts` restarts within any window of `within`; the
/// failure that would exceed it escalates instead.
struct restart_intensity {
  std::uint32_t max_restarts = 3;
  duration within = std::chrono::seconds{5};
};

/// How a supervised actor's failures are handled; passed to spawn.
///
///     auto w = sys.spawn<worker>(courier::supervision{
///         .on_failure = courier::strategy::restart_with_backoff,
///         .backoff = {.min = 10ms, .max = 1s}});
struct supervision {
  strategy on_failure = strategy::restart;
  backoff_policy backoff = {};
  restart_intensity intensity = {};
};

/// Which of a parent's children restart when one of them fails.
enum class supervision_group : std::uint8_t {
  one_for_one,  ///< Only the failing child.
  all_for_one,  ///< Every child of the parent (the others keep their mailboxes too).
};

/// The delay before restart `attempt` (0-based) under `p`, with `random`
/// (any 64-bit value) choosing the jitter. Always within [p.min, p.max].
duration backoff_delay(const backoff_policy& p, std::uint32_t attempt, std::uint64_t random) noexcept;

}  // namespace courier
