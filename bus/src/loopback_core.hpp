#pragma once

// The shared state of a loopback broker; internal to courier::bus.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "courier/bus/loopback_bridge.hpp"

namespace courier::detail {

/// One subscription. `call_mutex` is held while its sink runs, so cancel()
/// waits for a running call; it is recursive so a sink may cancel itself.
struct loopback_sub {
  std::uint64_t id = 0;
  std::uint64_t conn = 0;
  std::string pattern;
  std::string group;
  wire_sink sink;
  std::recursive_mutex call_mutex;
  bool active = true;  // guarded by call_mutex
};

/// A message waiting to be delivered; `only` is set for a redelivery.
struct loopback_item {
  wire_message msg;
  std::shared_ptr<loopback_sub> only;
  std::uint32_t attempt = 1;
};

/// A request waiting for its reply on its inbox subject.
struct loopback_request {
  std::uint64_t conn = 0;
  wire_reply_fn done;
  timer_id timer{};
};

struct loopback_core : std::enable_shared_from_this<loopback_core> {
  explicit loopback_core(loopback_config c) : cfg{c} {}

  loopback_config cfg;
  std::mutex mutex;  // guards everything below except the counters
  std::vector<std::shared_ptr<loopback_sub>> subs;
  std::unordered_map<std::string, std::uint64_t> cursors;  // round-robin per pattern and group
  std::unordered_map<std::string, std::shared_ptr<loopback_request>> inboxes;
  std::deque<loopback_item> queue;
  bool pumping = false;
  std::uint64_t next_id = 1;

  std::atomic<std::uint64_t> published{0}, delivered{0}, redelivered{0}, given_up{0}, lost{0}, unrouted{0};

  /// Queues `item`; the first thread to find the broker idle delivers until the queue is empty.
  void post(loopback_item item);
  /// Removes and returns the request waiting on `inbox`, or nullptr.
  std::shared_ptr<loopback_request> take_inbox(const std::string& inbox);
  /// True when some live subscription matches `subject`.
  bool has_subscriber(std::string_view subject);
  /// Deactivates every subscription of `conn` and fails its waiting requests.
  void disconnect(std::uint64_t conn);

 private:
  void pump();
  void deliver(loopback_item& item);
  std::vector<std::shared_ptr<loopback_sub>> targets(const loopback_item& item);
  void call(const std::shared_ptr<loopback_sub>& sub, const wire_message& msg, std::uint32_t attempt);
  void on_nak(const std::shared_ptr<loopback_sub>& sub, wire_message msg, std::uint32_t attempt);
};

}  // namespace courier::detail
