#pragma once

#include <cstddef>
#include <deque>
#include <unordered_map>

#include "courier/bus/envelope.hpp"

namespace courier {

/// Remembers message ids a subscription has seen. Implement it to keep the
/// window somewhere durable; the bus calls insert() and contains() under a
/// lock of the subscription's, so a store shared by subscriptions must lock
/// for itself.
class dedupe_store {
 public:
  virtual ~dedupe_store() = default;
  /// Records `id` seen at `now`; false if it is already in the window.
  virtual bool insert(const uuid& id, time_point now) = 0;
  /// Whether insert(id, now) would find `id` in the window, recording
  /// nothing: a bounded subscription asks first and inserts only once the
  /// message has a slot, so that a message its policy turns away is not
  /// remembered.
  [[nodiscard]] virtual bool contains(const uuid& id, time_point now) const = 0;
  /// A hint that insert(id, ...) follows soon: an unbounded subscription's
  /// turn calls it for the next message in the mailbox before it inserts the
  /// current one, so a store can start fetching what that insert will read.
  /// @threadsafe
  virtual void prefetch(const uuid& /*id*/) const noexcept {}
  [[nodiscard]] virtual std::size_t size() const = 0;
};

/// An in-memory window bounded by count and by age: O(1) per message, memory
/// bounded by `max_ids`. An id older than `max_age`, or pushed out by
/// `max_ids` newer ones, is forgotten and would be delivered again.
class window_dedupe_store final : public dedupe_store {
 public:
  window_dedupe_store(std::size_t max_ids, duration max_age) : max_ids_{max_ids}, max_age_{max_age} {
    seen_.reserve(max_ids);
  }
  bool insert(const uuid& id, time_point now) override {
    while (!order_.empty() && (order_.size() >= max_ids_ || now - order_.front().at > max_age_)) {
      seen_.erase(order_.front().id);
      order_.pop_front();
    }
    if (!seen_.emplace(id, now).second) return false;
    order_.push_back({id, now});
    return true;
  }
  [[nodiscard]] bool contains(const uuid& id, time_point now) const override {
    auto it = seen_.find(id);
    // insert() would first forget it if it is too old, or the oldest of a full window.
    return it != seen_.end() && now - it->second <= max_age_ &&
           (order_.size() < max_ids_ || !(order_.front().id == id));
  }
  [[nodiscard]] std::size_t size() const override { return seen_.size(); }

 private:
  struct entry {
    uuid id;
    time_point at;
  };
  std::size_t max_ids_;
  duration max_age_;
  std::unordered_map<uuid, time_point, uuid_hash> seen_;  // id -> when inserted
  std::deque<entry> order_;
};

}  // namespace courier
