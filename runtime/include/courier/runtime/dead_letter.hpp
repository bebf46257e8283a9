#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/message.hpp"

namespace courier {

/// Why a message could not be handled.
enum class dead_letter_reason : std::uint8_t {
  stopped,    ///< The receiver had stopped (or stopped before handling it).
  unhandled,  ///< The receiver has no handler for the message's type.
  shutdown,   ///< The system shut down before the message was handled.
  failed,     ///< The handler threw; the message is the one it failed on.
};
inline constexpr std::size_t dead_letter_reason_count = 4;

/// "stopped", "unhandled", ...
const char* to_string(dead_letter_reason r) noexcept;

/// A message that could not be handled, with its intended receiver.
struct dead_letter {
  message_ptr msg;
  actor_ref receiver;
  dead_letter_reason reason;
};

/// Receives every dead letter, on the thread that produced it.
/// @pre must not block and must not throw.
using dead_letter_sink = std::function<void(const dead_letter&)>;

namespace detail {
class dead_letter_hub;
}

/// Keeps a sink subscribed to a system's dead letters (system::subscribe_dead_letters).
/// Destroying it, or calling unsubscribe(), ends the subscription: it waits
/// for calls of the sink running on other threads, and none begins after it
/// returns, so the sink's captures may be destroyed right away. (Called from
/// inside the sink itself, it does not wait for that call.)
class dead_letter_subscription {
 public:
  dead_letter_subscription() noexcept = default;
  dead_letter_subscription(std::shared_ptr<detail::dead_letter_hub> hub, std::uint64_t id) noexcept
      : hub_{std::move(hub)}, id_{id} {}
  dead_letter_subscription(dead_letter_subscription&& o) noexcept = default;
  dead_letter_subscription& operator=(dead_letter_subscription&& o) noexcept {
    if (this != &o) {
      unsubscribe();
      hub_ = std::move(o.hub_);
      id_ = o.id_;
    }
    return *this;
  }
  ~dead_letter_subscription() { unsubscribe(); }

  /// Stops deliveries to the sink. Idempotent. @threadsafe
  void unsubscribe() noexcept;
  [[nodiscard]] bool active() const noexcept { return hub_ != nullptr; }

 private:
  std::shared_ptr<detail::dead_letter_hub> hub_;
  std::uint64_t id_ = 0;
};

/// Dead-letter totals, indexed by reason.
struct dead_letter_counts {
  std::array<std::uint64_t, dead_letter_reason_count> by_reason{};
  [[nodiscard]] std::uint64_t operator[](dead_letter_reason r) const noexcept {
    return by_reason[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t sum = 0;
    for (auto n : by_reason) sum += n;
    return sum;
  }
};

}  // namespace courier
