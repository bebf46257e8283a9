// How courier::nats_bridge connects, authenticates, buffers and delivers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "courier/bus/bridge.hpp"
#include "courier/runtime/clock.hpp"

namespace courier {

/// What publish does while the connection is down and the reconnect buffer is full.
enum class nats_overflow : std::uint8_t {
  drop_newest,  ///< The message is dropped and counted; publish() returns ok.
  reject,       ///< The message is counted and publish() returns errc::mailbox_full.
};

/// JetStream: at-least-once delivery through a stream and durable consumers.
struct nats_jetstream {
  bool enabled = false;
  std::string stream = "COURIER";  ///< Created, or updated to these settings, on start.
  /// Subjects the stream stores; required. Publishes outside them go over core NATS.
  std::vector<std::string> subjects = {};
  /// Durable consumer name prefix; a subscription without a durable name gets
  /// this prefix plus a hash of its pattern and queue group, stable across restarts.
  std::string durable_prefix = "courier";
  duration duplicate_window = std::chrono::minutes{2};  ///< Server dedupe on Nats-Msg-Id.
  duration ack_wait = std::chrono::seconds{30};          ///< Redelivery when no ack arrives in time.
  std::int64_t max_deliver = -1;                         ///< Deliveries per message at most; -1 unlimited.
  duration publish_timeout = std::chrono::seconds{5};    ///< How long publish waits for the stored ack.
  bool memory_storage = false;                           ///< Keep the stream in memory, not on disk.
};

struct nats_config {
  std::string url = "nats://127.0.0.1:4222";  ///< One URL, or several separated by commas.
  std::string name = "courier";               ///< Connection name the server shows.
  /// TLS and credentials, passed to nats.c as they are (see docs/bridges.md).
  bridge_security security = {};
  std::string ca_pem = {};  ///< Trusted CAs as PEM text, instead of or beside security.tls.ca_file.
  duration connect_timeout = std::chrono::seconds{2};
  duration reconnect_wait = std::chrono::milliseconds{100};
  int max_reconnect = -1;  ///< Attempts before the connection closes for good; -1 retries forever.
  /// Bytes nats.c buffers while disconnected and sends on reconnect; a full buffer applies `overflow`.
  std::size_t reconnect_buffer_bytes = 8 << 20;
  nats_overflow overflow = nats_overflow::drop_newest;
  /// Send each publish at once instead of batching in nats.c's flusher (lower latency, more syscalls).
  bool send_asap = false;
  nats_jetstream jetstream = {};
};

/// Counters of one bridge. @threadsafe to read through nats_bridge::stats().
struct nats_bridge_stats {
  std::uint64_t published = 0;       ///< Accepted by nats.c (or stored by JetStream).
  std::uint64_t dropped = 0;         ///< Reconnect buffer full under drop_newest.
  std::uint64_t rejected = 0;        ///< Reconnect buffer full under reject, or publish failed.
  std::uint64_t duplicates = 0;      ///< JetStream publishes the server recognised as repeats.
  std::uint64_t received = 0;        ///< Inbound messages handed to a sink.
  std::uint64_t acked = 0;           ///< JetStream deliveries acknowledged.
  std::uint64_t naked = 0;           ///< JetStream deliveries negatively acknowledged.
  std::uint64_t terminated = 0;      ///< JetStream deliveries terminated (never re-sent).
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t late_replies = 0;    ///< Replies that came after their request completed.
};

}  // namespace courier
