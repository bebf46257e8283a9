// Pieces shared by the bus scenarios' Courier implementations.
#pragma once

#include <atomic>
#include <cstdint>

#include <courier/courier.hpp>

#include "courier_support.hpp"

namespace courier::bench {

/// Counts the T it receives; once it has `expected`, it leaves `sinks_left`,
/// and the last sink to leave raises `done`.
template <class T>
class counting_sink final : public courier::actor {
 public:
  using handles = courier::handles<T>;
  counting_sink(std::uint64_t expected, std::atomic<int>& sinks_left, done_flag& done)
      : expected_{expected}, sinks_left_{sinks_left}, done_{done} {}
  void on(const T&) {
    if (++seen_ != expected_) return;
    // acq_rel: the last sink out sees every other sink's departure before it raises.
    if (sinks_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.raise();
  }

 private:
  std::uint64_t expected_;
  std::uint64_t seen_ = 0;
  std::atomic<int>& sinks_left_;
  done_flag& done_;
};

}  // namespace courier::bench
