#include "courier/runtime/detail/system_core.hpp"

#include <cstdint>
#include <vector>

#include "courier/runtime/detail/actor_cell.hpp"

namespace courier::detail {

void system_core::dead_letter(message_ptr msg, actor_cell* receiver, dead_letter_reason why) noexcept {
  dead_[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  if (!sink_ || detached()) return;
  actor_ref to;
  if (receiver != nullptr) {
    receiver->add_ref();
    to = actor_ref::adopt(receiver);
  }
  sink_(courier::dead_letter{std::move(msg), std::move(to), why});
}

dead_letter_counts system_core::dead_letters() const noexcept {
  dead_letter_counts c;
  for (std::size_t i = 0; i < dead_.size(); ++i) c.by_reason[i] = dead_[i].load(std::memory_order_relaxed);
  return c;
}

system_core::shard& system_core::shard_of(const actor_cell* c) noexcept {
  auto bits = reinterpret_cast<std::uintptr_t>(c);
  return shards_[(bits >> 6 ^ bits >> 12) % shard_count];
}

void system_core::enlist(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  std::lock_guard lock{s.mutex};
  c->next_ = s.head;
  if (s.head != nullptr) s.head->prev_ = c;
  s.head = c;
}

void system_core::delist(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  std::lock_guard lock{s.mutex};
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  else s.head = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
}

void system_core::stop_all() noexcept {
  std::vector<actor_cell*> live;
  for (shard& s : shards_) {
    std::lock_guard lock{s.mutex};
    for (actor_cell* c = s.head; c != nullptr; c = c->next_)
      if (c->try_add_ref()) live.push_back(c);
  }
  for (actor_cell* c : live) {
    c->request_stop();
    c->release();
  }
}

}  // namespace courier::detail
