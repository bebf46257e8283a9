#pragma once

// Between bus messages and wire messages: the envelope's fields become
// Courier-* headers, the payload goes through the type's registered codec.
// docs/bridges.md specifies every header.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "courier/bus/codec.hpp"
#include "courier/bus/envelope.hpp"
#include "courier/bus/wire.hpp"
#include "courier/runtime/clock.hpp"

namespace courier {

/// One reading of the bus's clock and of Unix time, to convert time points
/// (steady or virtual) to Unix nanoseconds on the wire and back.
struct wire_time {
  time_point bus_now{};
  std::int64_t unix_ns_now = 0;

  /// Reads `c` and the system clock. @threadsafe
  static wire_time now(const clock& c) noexcept;
  /// `t` as Unix nanoseconds.
  [[nodiscard]] std::int64_t to_unix(time_point t) const noexcept;
  /// Unix nanoseconds as a point on the bus's clock.
  [[nodiscard]] time_point from_unix(std::int64_t ns) const noexcept;
};

/// Fills `out` from bus message `m` (subject, reply subject, headers, payload),
/// reusing the buffers `out` holds from an earlier message. A non-empty `origin`
/// goes out as Courier-Origin, one of the encoder's own headers.
/// errc::unknown_type when m's type has no codec, errc::bad_message when the codec fails.
[[nodiscard]] errc encode_wire(const message& m, const codec_registry& codecs, const wire_time& t,
                               wire_message& out, std::string_view origin = {}) noexcept;

/// As above, with the headers taken from `env` instead of m's own envelope
/// (for a reply, which a handler returns without one).
[[nodiscard]] errc encode_wire(const message& m, const envelope& env, const codec_registry& codecs,
                               const wire_time& t, wire_message& out, std::string_view origin = {}) noexcept;

/// The most bytes write_decimal writes: a sign and 19 digits.
inline constexpr std::size_t max_decimal_chars = 20;

/// Writes `v` in decimal to `out`, the bytes std::to_chars writes (the integer
/// headers' format), and returns one past the last. @pre `out` has room for
/// max_decimal_chars. @threadsafe
char* write_decimal(std::int64_t v, char* out) noexcept;

/// Builds a bus message from an untrusted wire message. Checks, in order: limits
/// (too_large), subjects (invalid_subject), Courier-* header values (bad_message),
/// the type (unknown_type, unknown_version), then the codec (bad_message).
/// Never throws. @threadsafe
[[nodiscard]] result<message_ptr> decode_wire(const wire_message& in, const codec_registry& codecs,
                                              const wire_limits& limits, const wire_time& t) noexcept;

/// Parses the canonical 8-4-4-4-12 hex form of a uuid; false if malformed. @threadsafe
[[nodiscard]] bool parse_uuid(std::string_view text, uuid& out) noexcept;

}  // namespace courier
