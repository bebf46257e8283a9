// Helpers for the NATS bridge tests: a sink that collects wire messages, and
// waiting on a condition with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "courier/bridge/nats/nats_bridge.hpp"
#include "nats_server.hpp"

namespace courier::testing {

/// Polls `done` until it holds or `limit` passes; returns its last value.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds{2});  // polling interval
  }
  return true;
}

/// Collects what a bridge subscription delivers; settles each with `policy`.
class wire_inbox {
 public:
  /// Decides how to settle one delivery (nullopt: never); the default acks.
  std::function<std::optional<settle>(const wire_message&)> policy = [](const wire_message&) {
    return std::optional<settle>{settle::ack};
  };

  /// A sink that appends to this inbox.
  wire_sink sink() {
    return [this](wire_message m, settle_fn s) {
      const std::optional<settle> how = policy(m);
      {
        std::lock_guard lock{mutex_};
        got_.push_back(std::move(m));
      }
      changed_.notify_all();
      if (s && how) s(*how);
    };
  }
  /// Waits until at least `n` messages arrived, or `limit` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [&] { return got_.size() >= n; });
  }
  [[nodiscard]] std::vector<wire_message> messages() const {
    std::lock_guard lock{mutex_};
    return got_;
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock{mutex_};
    return got_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<wire_message> got_;
};

/// A wire message with no headers.
inline wire_message plain_wire(std::string subject, std::string payload) {
  wire_message m;
  m.subject = std::move(subject);
  m.payload = std::move(payload);
  return m;
}

/// A wire message with an id header, a type and `payload`.
inline wire_message make_wire(std::string subject, std::string payload, std::string id = "") {
  wire_message m = plain_wire(std::move(subject), std::move(payload));
  if (id.empty()) id = uuid::v7().to_string();
  m.headers.emplace_back(std::string{wire_header::id}, std::move(id));
  m.headers.emplace_back(std::string{wire_header::type}, "test.text/v1");
  return m;
}

/// Sends `m` as a request and waits (bounded) for its outcome; errc::cancelled if none came.
inline result<wire_message> request_sync(bridge& b, wire_message m, duration timeout) {
  auto p = std::make_shared<std::promise<result<wire_message>>>();
  auto f = p->get_future();
  b.request(std::move(m), timeout, [p](result<wire_message> r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds{30}) != std::future_status::ready) return errc::cancelled;
  return f.get();
}

/// A bridge to `server` with fast reconnects.
inline nats_config core_config(const nats_server& server) {
  return {.url = server.url(), .reconnect_wait = std::chrono::milliseconds{20}};
}

/// The same with JetStream storing `subjects`.
inline nats_config js_config(const nats_server& server, std::vector<std::string> subjects) {
  nats_config c = core_config(server);
  c.jetstream = {.enabled = true, .subjects = std::move(subjects)};
  return c;
}

}  // namespace courier::testing
