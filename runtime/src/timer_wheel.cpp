#include "courier/runtime/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <stdexcept>

namespace courier {

namespace {

constexpr std::uint64_t digit_mask = timer_wheel::slots_per_level - 1;
constexpr std::uint64_t no_tick = std::numeric_limits<std::uint64_t>::max();

constexpr std::uint64_t bit_of(std::uint32_t slot) noexcept {
  return std::uint64_t{1} << (slot & digit_mask);
}

}  // namespace

timer_wheel::timer_wheel(config cfg) : resolution_ns_{cfg.resolution.count()} {
  if (resolution_ns_ <= 0) throw std::invalid_argument("timer_wheel: resolution must be positive");
  cur_ = tick_of(cfg.start.time_since_epoch().count());
  nodes_.resize(slot_count);
  for (std::uint32_t s = 0; s < slot_count; ++s) nodes_[s].next = nodes_[s].prev = nodes_[s].where = s;
}

timer_id timer_wheel::schedule(time_point deadline, std::uint64_t token) {
  const std::uint32_t i = acquire();
  node& n = nodes_[i];
  n.deadline = deadline.time_since_epoch().count();
  n.seq = next_seq_++;
  n.token = token;
  ++pending_;
  if (firing_ && tick_of(n.deadline) <= cur_ && n.deadline <= firing_now_ns_) [[unlikely]] {
    push_due(i);  // due in the advance that is running: merge it into the firing order
  } else {
    place(i);
  }
  return {i, n.generation};
}

bool timer_wheel::cancel(timer_id id) noexcept {
  if (id.index < slot_count || id.index >= nodes_.size()) return false;
  node& n = nodes_[id.index];
  if (n.generation != id.generation || n.where == free_node) return false;
  ++n.generation;
  --pending_;
  if (n.where == in_batch) {
    n.where = cancelled_in_batch;  // pop_due recycles it; recycling now could refire the index
  } else {
    unlink(id.index);
    recycle(id.index);
  }
  return true;
}

std::optional<time_point> timer_wheel::next_deadline() const noexcept {
  if (pending_ == 0) return std::nullopt;
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  if (firing_) {
    for (const due& d : batch_) {
      if (nodes_[d.index].where == in_batch) best = std::min(best, d.deadline);
    }
  }
  for (std::uint32_t level = 0; level <= levels; ++level) {
    if (const std::uint64_t bits = occupied_[level]) {
      const auto slot = level * slots_per_level + static_cast<std::uint32_t>(std::countr_zero(bits));
      best = std::min(best, exact_min(slot));
      break;
    }
  }
  return time_point{duration{best}};
}

void timer_wheel::reserve(std::size_t n) { nodes_.reserve(slot_count + n); }

std::uint64_t timer_wheel::tick_of(std::int64_t ns) const noexcept {
  return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / resolution_ns_);
}

std::uint32_t timer_wheel::slot_for(std::uint64_t tick) const noexcept {
  const std::uint64_t differing = (tick ^ cur_) | digit_mask;
  const auto level = static_cast<std::uint32_t>(63 - std::countl_zero(differing)) / slot_bits;
  if (level >= levels) return overflow_slot;
  return level * slots_per_level + static_cast<std::uint32_t>((tick >> (level * slot_bits)) & digit_mask);
}

std::int64_t timer_wheel::exact_min(std::uint32_t slot) const noexcept {
  if (!min_exact_[slot]) {
    std::int64_t m = std::numeric_limits<std::int64_t>::max();
    for (std::uint32_t i = nodes_[slot].next; i != slot; i = nodes_[i].next) m = std::min(m, nodes_[i].deadline);
    slot_min_[slot] = m;
    min_exact_[slot] = true;
  }
  return slot_min_[slot];
}

timer_wheel::event timer_wheel::next_event() const noexcept {
  for (std::uint32_t level = 0; level < levels; ++level) {
    if (const std::uint64_t bits = occupied_[level]) {
      const std::uint32_t shift = level * slot_bits;
      const auto digit = static_cast<std::uint32_t>(std::countr_zero(bits));
      assert(digit > ((cur_ >> shift) & digit_mask) && "slots behind the wheel's tick are empty");
      const std::uint64_t block = cur_ >> (shift + slot_bits) << (shift + slot_bits);
      return {block | std::uint64_t{digit} << shift, level * slots_per_level + digit};
    }
  }
  if (occupied_[levels] != 0) {
    // slot_min_ is a lower bound, so this never overshoots the earliest overflow timer.
    constexpr std::uint32_t top = levels * slot_bits;
    const std::uint64_t block = tick_of(slot_min_[overflow_slot]) >> top << top;
    return {std::max(block, cur_ + 1), overflow_slot};
  }
  return {no_tick, 0};
}

std::uint32_t timer_wheel::acquire() {
  if (free_head_ != nil) {
    const std::uint32_t i = free_head_;
    free_head_ = nodes_[i].next;
    return i;
  }
  if (nodes_.size() >= free_node) throw std::length_error("timer_wheel: too many pending timers");
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void timer_wheel::recycle(std::uint32_t i) noexcept {
  nodes_[i].where = free_node;
  nodes_[i].next = free_head_;
  free_head_ = i;
}

void timer_wheel::place(std::uint32_t i) noexcept {
  const std::uint64_t tick = tick_of(nodes_[i].deadline);
  link(i, slot_for(tick > cur_ ? tick : cur_));
}

void timer_wheel::link(std::uint32_t i, std::uint32_t slot) noexcept {
  node& head = nodes_[slot];
  node& n = nodes_[i];
  const bool was_empty = head.next == slot;
  n.where = slot;
  n.next = slot;
  n.prev = head.prev;
  nodes_[head.prev].next = i;
  head.prev = i;
  if (was_empty) {
    occupied_[slot / slots_per_level] |= bit_of(slot);
    slot_min_[slot] = n.deadline;
    min_exact_[slot] = true;
  } else if (n.deadline < slot_min_[slot]) {
    slot_min_[slot] = n.deadline;  // below a lower bound of the rest: now exact
    min_exact_[slot] = true;
  }
}

void timer_wheel::unlink(std::uint32_t i) noexcept {
  const node& n = nodes_[i];
  const std::uint32_t slot = n.where;
  nodes_[n.prev].next = n.next;
  nodes_[n.next].prev = n.prev;
  if (nodes_[slot].next == slot) {
    occupied_[slot / slots_per_level] &= ~bit_of(slot);
  } else if (n.deadline == slot_min_[slot]) {
    min_exact_[slot] = false;
  }
}

std::uint32_t timer_wheel::detach(std::uint32_t slot) noexcept {
  node& head = nodes_[slot];
  const std::uint32_t first = head.next;
  nodes_[head.prev].next = nil;
  head.next = head.prev = slot;
  occupied_[slot / slots_per_level] &= ~bit_of(slot);
  return first;
}

void timer_wheel::cascade(std::uint32_t slot) noexcept {
  for (std::uint32_t i = detach(slot); i != nil;) {
    const std::uint32_t next = nodes_[i].next;
    place(i);
    i = next;
  }
}

namespace {
constexpr auto later = [](const auto& a, const auto& b) {
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
};
}  // namespace

void timer_wheel::push_due(std::uint32_t i) {
  nodes_[i].where = in_batch;
  batch_.push_back({nodes_[i].deadline, nodes_[i].seq, i});
  std::push_heap(batch_.begin(), batch_.end(), later);
}

bool timer_wheel::collect_due(std::int64_t now_ns, bool whole_slot) {
  const auto slot = static_cast<std::uint32_t>(cur_ & digit_mask);
  if ((occupied_[0] & bit_of(slot)) == 0 || (!whole_slot && slot_min_[slot] > now_ns)) return false;
  if (whole_slot) {
    for (std::uint32_t i = detach(slot); i != nil;) {
      const std::uint32_t next = nodes_[i].next;
      nodes_[i].where = in_batch;
      batch_.push_back({nodes_[i].deadline, nodes_[i].seq, i});
      i = next;
    }
  } else {
    std::int64_t rest = std::numeric_limits<std::int64_t>::max();
    for (std::uint32_t i = nodes_[slot].next; i != slot;) {
      node& n = nodes_[i];
      const std::uint32_t next = n.next;
      if (n.deadline <= now_ns) {
        unlink(i);
        n.where = in_batch;
        batch_.push_back({n.deadline, n.seq, i});
      } else {
        rest = std::min(rest, n.deadline);
      }
      i = next;
    }
    slot_min_[slot] = rest;
    min_exact_[slot] = true;
  }
  std::make_heap(batch_.begin(), batch_.end(), later);
  return !batch_.empty();
}

std::optional<timer_wheel::fired> timer_wheel::pop_due() noexcept {
  while (!batch_.empty()) {
    std::pop_heap(batch_.begin(), batch_.end(), later);
    const std::uint32_t i = batch_.back().index;
    batch_.pop_back();
    node& n = nodes_[i];
    if (n.where == cancelled_in_batch) {
      recycle(i);
      continue;
    }
    const fired f{n.token, time_point{duration{n.deadline}}};
    ++n.generation;
    --pending_;
    recycle(i);
    return f;
  }
  return std::nullopt;
}

void timer_wheel::abandon_batch() noexcept {
  for (const due& d : batch_) {
    if (nodes_[d.index].where == cancelled_in_batch) {
      recycle(d.index);
    } else {
      place(d.index);  // due, so it lands in the current slot and fires on the next advance
    }
  }
  batch_.clear();
  firing_ = false;
}

void timer_wheel::step_towards(std::uint64_t target) noexcept {
  const event e = next_event();
  if (e.tick > target) {
    cur_ = target;
    return;
  }
  cur_ = e.tick;
  if (e.slot >= slots_per_level) cascade(e.slot);
}

}  // namespace courier
