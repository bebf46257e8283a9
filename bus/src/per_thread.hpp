#pragma once

// Per-thread state attached to a shared object, for hot paths that must not
// write memory other threads touch. Each thread keeps its own State per
// object, found by the object's process-unique id. A thread holds state for
// at most a few objects, most recently used first; when it needs room, it
// first drops the state of objects already destroyed (their owner token has
// expired), then the least recently used.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

namespace courier::detail {

/// What a shared object embeds so that threads can keep state for it.
class per_thread_owner {
 public:
  per_thread_owner() : uid_{next_uid().fetch_add(1, std::memory_order_relaxed)}, alive_{std::make_shared<char>()} {}
  per_thread_owner(const per_thread_owner&) = delete;
  per_thread_owner& operator=(const per_thread_owner&) = delete;

  [[nodiscard]] std::uint64_t uid() const noexcept { return uid_; }
  [[nodiscard]] const std::shared_ptr<const void>& alive() const noexcept { return alive_; }

 private:
  static std::atomic<std::uint64_t>& next_uid() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next;
  }

  std::uint64_t uid_;                  // never reused, so stale state is never mistaken for live
  std::shared_ptr<const void> alive_;  // expires with the object
};

/// The calling thread's State for `owner`, default-constructed on first use.
/// The reference stays valid until this thread next calls per_thread<State>.
template <class State, std::size_t max_owners = 8>
State& per_thread(const per_thread_owner& owner) {
  struct slot {
    std::uint64_t uid;
    std::weak_ptr<const void> alive;
    State state;
  };
  thread_local std::vector<slot> slots;
  const std::uint64_t uid = owner.uid();
  if (!slots.empty() && slots.front().uid == uid) return slots.front().state;
  auto it = std::find_if(slots.begin(), slots.end(), [uid](const slot& s) { return s.uid == uid; });
  if (it == slots.end()) {
    std::erase_if(slots, [](const slot& s) { return s.alive.expired(); });
    if (slots.size() >= max_owners) slots.pop_back();
    slots.push_back(slot{uid, owner.alive(), State{}});
    it = std::prev(slots.end());
  }
  std::rotate(slots.begin(), it, std::next(it));
  return slots.front().state;
}

}  // namespace courier::detail
