#include "courier/runtime/clock.hpp"

namespace courier {

clock::~clock() = default;

time_point steady_clock::now() const noexcept {
  return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
}

virtual_clock::virtual_clock(time_point start) noexcept : ns_{start.time_since_epoch().count()} {}

time_point virtual_clock::now() const noexcept {
  // Acquire pairs with the release in advance/advance_to: whatever the advancing thread
  // wrote before moving time is visible to a reader that sees the new time.
  return time_point{duration{ns_.load(std::memory_order_acquire)}};
}

time_point virtual_clock::advance(duration d) noexcept {
  if (d <= duration::zero()) return now();
  // Release publishes the advancer's earlier writes to readers of the new time (see now()).
  return time_point{duration{ns_.fetch_add(d.count(), std::memory_order_acq_rel) + d.count()}};
}

time_point virtual_clock::advance_to(time_point t) noexcept {
  const duration::rep target = t.time_since_epoch().count();
  duration::rep seen = ns_.load(std::memory_order_acquire);
  while (seen < target) {
    // CAS, not store: a concurrent advance may have moved time past `target`, and
    // overwriting it would move time backwards. Release pairs with the acquire in now().
    if (ns_.compare_exchange_weak(seen, target, std::memory_order_acq_rel,
                                  std::memory_order_acquire)) {
      return t;
    }
  }
  return time_point{duration{seen}};
}

}  // namespace courier
