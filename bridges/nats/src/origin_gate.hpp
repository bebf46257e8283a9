// Decides, per core publish, whether the Courier-Origin header has to travel.
#pragma once

#include <atomic>
#include <cstdint>

namespace courier::nats_detail {

/// Courier-Origin lets a bus drop the messages its own bridge hands back to it,
/// and core NATS hands a message back only to a subscription of the connection
/// that published it. While the connection has no subscription, publishes
/// leave the header out ("bare").
///
/// A bare message must reach the server before the SUB of any later
/// subscription. Publishes and add() meet in a Dekker-style handshake on
/// seq_cst operations: a publish announces itself, then looks for
/// subscriptions; add() counts the subscription, then waits for the announced
/// publishes to finish. In the single total order one of them sees the other,
/// so a bare publish either sees the subscription (and keeps the header) or is
/// written before add() returns. The caller of add() then flushes before it
/// subscribes, so bare messages still in nats.c's reconnect buffer (which
/// re-sends subscriptions first) cannot be handed to the new subscription.
/// @threadsafe
class origin_gate {
 public:
  /// True when this publish may go bare; then call end_bare() once it is written.
  bool begin_bare() noexcept;
  void end_bare() noexcept;
  /// Counts a subscription about to be made; returns once no bare publish is in flight.
  void add() noexcept;
  /// Uncounts a subscription that was unsubscribed (or never made).
  void remove() noexcept;

 private:
  std::atomic<std::uint64_t> subscriptions_{0};
  std::atomic<std::uint64_t> bare_in_flight_{0};
};

}  // namespace courier::nats_detail
