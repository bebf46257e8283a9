// Requests waiting for a reply on the bridge's inbox, and their deadlines.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "courier/bus/bridge.hpp"

namespace courier::nats_detail {

/// Pending requests by token; one thread completes those whose deadline passes.
class request_table {
 public:
  request_table();
  ~request_table();
  request_table(const request_table&) = delete;
  request_table& operator=(const request_table&) = delete;

  /// Registers `done` until `timeout` from now; returns the token for its reply subject.
  std::uint64_t add(wire_reply_fn done, duration timeout);
  /// Completes `token` with `r`; false when it already completed (a late reply).
  bool complete(std::uint64_t token, result<wire_message> r);
  /// Completes every pending request with `why`.
  void fail_all(errc why);

 private:
  struct entry {
    wire_reply_fn done;
    std::multimap<std::chrono::steady_clock::time_point, std::uint64_t>::iterator deadline;
  };
  void expire_loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::unordered_map<std::uint64_t, entry> pending_;
  std::multimap<std::chrono::steady_clock::time_point, std::uint64_t> deadlines_;
  std::uint64_t next_ = 1;
  bool stopping_ = false;
  std::thread expirer_;
};

}  // namespace courier::nats_detail
