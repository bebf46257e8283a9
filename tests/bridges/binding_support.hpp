#pragma once

// A bridge that records what the bus hands it, can hold publish() until
// released, and lets a test play the broker's side of an inbound delivery.

#include <condition_variable>
#include <mutex>
#include <vector>

#include "bridges/wire_support.hpp"

namespace courier::test {

class capture_bridge final : public courier::bridge {
 public:
  errc publish(const wire_message& m) noexcept override {
    std::unique_lock lock{mutex_};
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    published_.push_back(m);
    return errc::ok;
  }
  result<bridge_subscription> subscribe(std::string_view, wire_sink sink, bridge_subscribe_options) override {
    std::lock_guard lock{mutex_};
    sink_ = std::move(sink);
    return bridge_subscription{[this] {
      std::lock_guard l{mutex_};
      sink_ = nullptr;
    }};
  }
  void request(wire_message, duration, wire_reply_fn done) override { done(errc::no_responders); }
  errc flush(duration) noexcept override { return errc::ok; }
  void close() noexcept override {}
  [[nodiscard]] bridge_features features() const noexcept override { return {}; }

  /// Makes publish() wait until release().
  void hold() {
    std::lock_guard lock{mutex_};
    open_ = false;
  }
  void release() {
    std::lock_guard lock{mutex_};
    open_ = true;
    changed_.notify_all();
  }
  /// Waits until `n` publish() calls have started.
  bool wait_entered(std::size_t n) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, std::chrono::seconds{10}, [&] { return entered_ >= n; });
  }
  std::vector<wire_message> published() {
    std::lock_guard lock{mutex_};
    return published_;
  }
  /// Delivers `m` as the broker would; false if nothing is subscribed.
  bool deliver(wire_message m, settle_fn settle) {
    wire_sink sink;
    {
      std::lock_guard lock{mutex_};
      sink = sink_;
    }
    if (!sink) return false;
    sink(std::move(m), std::move(settle));
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  std::size_t entered_ = 0;
  std::vector<wire_message> published_;
  wire_sink sink_;
};

/// A wire message carrying order_placed{id, item} as orders.placed/v1.
inline wire_message order_wire(std::string subject, int id) {
  wire_message w{std::move(subject), {}, {}, R"({"id":)" + std::to_string(id) + R"(,"item":"x"})"};
  w.headers.emplace_back(wire_header::type, "orders.placed/v1");
  return w;
}

/// Records how inbound messages were settled.
struct settle_log {
  std::vector<settle> seen;
  settle_fn fn() {
    return [this](settle s) { seen.push_back(s); };
  }
};

}  // namespace courier::test
