// nats_publish: every implementation publishes the same payloads to its own
// local nats-server, then flushes; throughput counts publishes per second.
#pragma once

#include <nats/nats.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <courier/bus/envelope.hpp>
#include <courier/bus/errc.hpp>

#include "harness.hpp"

namespace courier::bench::nats_publish {

inline constexpr const char* subject = "bench.publish";
inline constexpr std::size_t payload_size = 128;

inline std::uint64_t messages(const options& o) { return o.quick ? 100'000 : 1'000'000; }

/// The payload of message `i`: its index, then filler.
inline std::array<char, payload_size> payload(std::uint64_t i) {
  std::array<char, payload_size> p;
  p.fill('x');
  std::memcpy(p.data(), &i, sizeof i);
  return p;
}

/// The Courier headers every message carries, as the bus's encoder writes them:
/// a fresh UUIDv7 id, the type tag, the publish time in Unix nanoseconds and the
/// attempt. `raw` and `bridge` send these same header lines, so the same bytes
/// go on the wire.
struct headers {
  static constexpr const char* type = "bench.payload/v1";
  static constexpr const char* attempt = "1";
  std::array<char, 37> id{};         ///< 8-4-4-4-12 hex, NUL-terminated.
  std::array<char, 21> timestamp{};  ///< Decimal, NUL-terminated.

  /// The headers of the next message.
  static headers next() {
    headers h;
    const courier::uuid u = courier::uuid::v7();
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t out = 0;
    for (int nibble = 0; nibble < 32; ++nibble) {
      if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) h.id[out++] = '-';
      const std::uint64_t word = nibble < 16 ? u.hi : u.lo;
      h.id[out++] = hex[(word >> (60 - 4 * (nibble % 16))) & 0xf];
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    std::to_chars(h.timestamp.data(), h.timestamp.data() + h.timestamp.size() - 1, ns);
    return h;
  }
};

/// The payload as a Courier message type, and a codec that sends its bytes as they are.
struct payload_msg {
  std::array<char, payload_size> bytes;
};
struct bytes_codec {
  courier::errc encode(const payload_msg& m, std::string& out) const {
    out.append(m.bytes.data(), m.bytes.size());
    return errc::ok;
  }
  courier::result<payload_msg> decode(std::string_view in) const {
    if (in.size() != payload_size) return errc::bad_message;
    payload_msg m;
    std::memcpy(m.bytes.data(), in.data(), payload_size);
    return m;
  }
};

/// Throws with nats.c's text for a failed call.
inline void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string{"nats: "} + what + ": " + natsStatus_GetText(s));
}

}  // namespace courier::bench::nats_publish
