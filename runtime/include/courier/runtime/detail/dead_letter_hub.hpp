#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "courier/runtime/dead_letter.hpp"

namespace courier::detail {

/// The sinks subscribed to a system's dead letters at run time. Publishing
/// reads an immutable snapshot of the list, so subscribing and unsubscribing
/// never wait for a sink, and a sink may itself subscribe or unsubscribe.
class dead_letter_hub {
 public:
  /// Adds `sink`; returns its id. @threadsafe
  std::uint64_t add(dead_letter_sink sink);
  /// Removes the sink `id` and waits for calls of it running on other
  /// threads to return; none begins afterwards. @threadsafe
  void remove(std::uint64_t id) noexcept;
  /// True if no sink is subscribed: one load on the dead-letter path. @threadsafe
  [[nodiscard]] bool empty() const noexcept { return count_.load(std::memory_order_acquire) == 0; }
  /// Calls every subscribed sink with `d`. @threadsafe
  void publish(const dead_letter& d) const noexcept;

 private:
  struct entry {
    std::uint64_t id;
    dead_letter_sink sink;
    std::atomic<bool> active{true};
    std::atomic<std::uint32_t> calls{0};  // calls running now
  };
  using list = std::vector<std::shared_ptr<entry>>;

  mutable std::mutex mutex_;
  std::shared_ptr<const list> sinks_ = std::make_shared<const list>();
  std::atomic<std::size_t> count_{0};
  std::uint64_t next_id_ = 1;
};

}  // namespace courier::detail
