// Destroys published natsMsgs in batches instead of one at a time.
#pragma once

#include <nats/nats.h>

#include <array>
#include <cstddef>
#include <mutex>

namespace courier::nats_detail {

/// natsMsg_Destroy does not free: it appends the message to nats.c's one
/// garbage-collector list under a process-wide lock and signals the collector
/// thread whenever that thread sleeps. Destroyed one per publish, about one
/// publish in seven paid a futex wake and the collector a task switch.
/// Retired here, messages go to the collector `batch` at a time, so it wakes
/// about once per batch. A message is retired only after
/// nats.c copied it into the connection's buffer, so holding it longer changes
/// nothing on the wire; at most `batch` messages are held. @threadsafe
class retired_msgs {
 public:
  static constexpr std::size_t batch = 256;

  retired_msgs() = default;
  retired_msgs(const retired_msgs&) = delete;
  retired_msgs& operator=(const retired_msgs&) = delete;
  ~retired_msgs() { drain(); }

  /// Takes ownership of `m` and destroys it with the next full batch.
  void retire(natsMsg* m) noexcept;
  /// Destroys every retired message now.
  void drain() noexcept;

 private:
  std::mutex mutex_;
  std::array<natsMsg*, batch> msgs_{};
  std::size_t count_ = 0;
};

}  // namespace courier::nats_detail
