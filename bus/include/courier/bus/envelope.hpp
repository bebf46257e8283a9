#pragma once

#include <compare>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/runtime/clock.hpp"
#include "courier/runtime/message.hpp"

namespace courier {

/// A 128-bit identifier. Message ids are UUIDv7 (RFC 9562): a 48-bit Unix
/// millisecond timestamp, then random bits, so ids sort roughly by creation.
/// The timestamp comes from the coarse real-time clock, so it has the
/// kernel tick's resolution (1 to 4 ms) rather than a millisecond's.
struct uuid {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  /// A new UUIDv7, from a per-thread generator: no lock. @threadsafe
  static uuid v7() noexcept;
  [[nodiscard]] bool nil() const noexcept { return hi == 0 && lo == 0; }
  /// The canonical 8-4-4-4-12 hex form.
  [[nodiscard]] std::string to_string() const;
  friend auto operator<=>(const uuid&, const uuid&) = default;
};

struct uuid_hash {
  std::size_t operator()(const uuid& u) const noexcept { return u.hi ^ (u.lo * 0x9e3779b97f4a7c15ULL); }
};

/// What travels with every published message, in-process and over bridges.
struct envelope : message_meta {
  uuid id;
  uuid correlation_id;  ///< The conversation; a new one starts with the first message.
  uuid causation_id;    ///< The message whose handler published this one, if any.
  std::string subject;
  std::string reply_to;
  std::string_view type_name;  ///< T::type_name if the payload type declares one.
  std::uint32_t schema_version = 1;
  time_point timestamp{};
  std::optional<time_point> deadline;
  std::uint32_t attempt = 1;
  std::string traceparent;  ///< W3C trace context.
  std::string key;          ///< Partition key for keyed queue groups.
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<void> reply_owner;  ///< Keeps `replies` alive while the request travels.

  /// The value of header `name`, or an empty view.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
};

/// A payload of type T with its envelope: one allocation, shared by every subscriber.
template <class T>
class bus_message final : public message_box<T> {
 public:
  template <class... Args>
  explicit bus_message(envelope env, Args&&... args)
      : message_box<T>{std::in_place, std::forward<Args>(args)...}, env_{std::move(env)} {}
  /// With an empty envelope, to be filled in place.
  template <class... Args>
  explicit bus_message(std::in_place_t, Args&&... args)
      : message_box<T>{std::in_place, std::forward<Args>(args)...} {}
  [[nodiscard]] const message_meta* meta() const noexcept override { return &env_; }
  envelope& env() noexcept { return env_; }

 private:
  envelope env_;
};

/// The envelope of `m`, or nullptr if it did not come through the bus.
inline const envelope* envelope_of(const message& m) noexcept {
  return static_cast<const envelope*>(m.meta());
}

}  // namespace courier
