#pragma once

// A message as it travels between a bus and a broker. Every bridge maps its
// client library's message to and from `wire_message`; the bus never sees a
// broker type. docs/bridges.md specifies the header names and value formats
// so that a service in another language can speak the same format.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/bus/errc.hpp"

namespace courier {

/// Header names of the wire format. Names are compared exactly (case-sensitive).
namespace wire_header {
inline constexpr std::string_view id = "Courier-Id";
inline constexpr std::string_view correlation_id = "Courier-Correlation-Id";
inline constexpr std::string_view causation_id = "Courier-Causation-Id";
inline constexpr std::string_view type = "Courier-Type";  ///< `<name>/v<major>`, e.g. `orders.placed/v1`
inline constexpr std::string_view timestamp = "Courier-Timestamp";  ///< Unix time, nanoseconds, decimal
inline constexpr std::string_view deadline = "Courier-Deadline";    ///< Unix time, nanoseconds, decimal
inline constexpr std::string_view attempt = "Courier-Attempt";      ///< decimal, >= 1
inline constexpr std::string_view key = "Courier-Key";
inline constexpr std::string_view error = "Courier-Error";            ///< on a reply: an errc name
inline constexpr std::string_view error_text = "Courier-Error-Text";  ///< on a reply: the handler's text
inline constexpr std::string_view traceparent = "traceparent";        ///< W3C trace context
/// The id of the bridge connection that published the message; a bus drops its own echoes.
inline constexpr std::string_view origin = "Courier-Origin";
/// Every header whose name starts with this prefix is reserved for the format.
inline constexpr std::string_view reserved_prefix = "Courier-";
}  // namespace wire_header

/// One message on the wire: subject, reply subject, headers and payload bytes.
struct wire_message {
  std::string subject;
  std::string reply_to;  ///< Empty unless the message is a request.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;  ///< Arbitrary bytes, as produced by the type's codec.
  /// How many leading headers encode_wire wrote from values it formatted itself
  /// (id, type tag, correlation and causation ids, timestamp, deadline, attempt, a
  /// binding's Courier-Origin): their names are distinct and their bytes fit any
  /// broker's header syntax, so a bridge need not check them. Every other header, the key and traceparent
  /// included, comes from the publisher and is checked. 0 for a message built any
  /// other way; whoever replaces, removes or reorders those headers resets it.
  std::size_t encoder_headers = 0;

  /// The value of the first header called `name`, or an empty view.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
  /// True when a header called `name` is present.
  [[nodiscard]] bool has_header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (h.first == name) return true;
    return false;
  }
};

/// Caps checked on every inbound message before anything is allocated for it.
struct wire_limits {
  std::size_t max_payload_bytes = 1024 * 1024;  ///< 1 MiB, the NATS server's default max_payload
  std::size_t max_headers = 64;                 ///< headers per message
  std::size_t max_header_bytes = 4096;          ///< name plus value of one header
  std::size_t max_subject_bytes = 256;          ///< subject and reply subject, each
};

/// Checks `m` against `limits`; errc::ok, errc::too_large or errc::invalid_subject. @threadsafe
[[nodiscard]] errc check_limits(const wire_message& m, const wire_limits& limits) noexcept;

/// Appends `m` as one self-delimiting frame, for brokers without native headers. @threadsafe
void encode_frame(const wire_message& m, std::string& out);

/// Parses one frame from untrusted bytes into `out`. Every length is checked
/// against `limits` and the bytes left before anything is allocated. Returns
/// errc::ok, errc::too_large or errc::bad_message; never throws. @threadsafe
[[nodiscard]] errc decode_frame(std::string_view bytes, const wire_limits& limits, wire_message& out) noexcept;

}  // namespace courier
