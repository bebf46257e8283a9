// nats_publish: every implementation publishes the same payloads to its own
// local nats-server, then flushes; throughput counts publishes per second.
#pragma once

#include <nats/nats.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

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
