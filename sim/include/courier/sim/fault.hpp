#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "courier/runtime/clock.hpp"

namespace courier::sim {

// Faults act on deliveries: one published message (or request) on its way to
// one subscription. Each matching, switched-on fault rolls its probability
// for each delivery, with the world's seeded generator.

/// The delivery never happens.
struct drop {
  double probability = 1.0;
};

/// The subscription gets `copies` extra copies of the message (same envelope,
/// same message id), right behind the original.
struct duplicate {
  double probability = 1.0;
  std::uint32_t copies = 1;
};

/// The delivery happens after a delay drawn uniformly from [min, max]. The
/// link to each subscription stays FIFO, like a network connection with
/// latency: a message never overtakes an earlier one to the same subscription.
struct delay {
  double probability = 1.0;
  duration min = {};
  duration max = {};
};

/// The delivery is held back; once `window` messages to the subscription are
/// held, or `max_hold` has passed since the first, they go in a random order.
/// Deliveries the fault does not pick pass straight through, overtaking the
/// held ones. This is the one fault that breaks FIFO.
struct reorder {
  double probability = 1.0;
  std::size_t window = 4;
  duration max_hold = std::chrono::milliseconds{1};
};

using fault = std::variant<drop, duplicate, delay, reorder>;

/// How often one fault rule matched and acted.
struct fault_stats {
  std::uint64_t matched = 0;  ///< Deliveries it saw while switched on.
  std::uint64_t fired = 0;    ///< Deliveries it acted on.
};

/// Totals over every fault rule and delivery of a world.
struct delivery_stats {
  std::uint64_t delivered = 0;   ///< Handed to a subscription (copies included).
  std::uint64_t dropped = 0;     ///< Swallowed by drop faults.
  std::uint64_t duplicated = 0;  ///< Extra copies added by duplicate faults.
  std::uint64_t delayed = 0;     ///< Deferred by delay faults, copies included (a held one counts as reordered).
  std::uint64_t reordered = 0;   ///< Held back by reorder faults.
  std::uint64_t cancelled = 0;   ///< Deferred deliveries whose subscription was gone when due.
};

}  // namespace courier::sim
