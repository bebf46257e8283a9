#include "courier/runtime/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <stdexcept>

namespace courier {

namespace {

__extension__ typedef unsigned __int128 u128;  // a GCC and Clang extension; quiet under -Wpedantic

constexpr std::uint64_t digit_mask = timer_wheel::slots_per_level - 1;
constexpr std::uint64_t no_tick = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t prefetch_distance = 8;  // nodes touched ahead while walking a slot

constexpr std::uint64_t bit_of(std::uint32_t slot) noexcept {
  return std::uint64_t{1} << (slot & digit_mask);
}

constexpr auto later = [](const auto& a, const auto& b) {
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
};

}  // namespace

timer_wheel::timer_wheel(config cfg) : resolution_ns_{cfg.resolution.count()} {
  if (resolution_ns_ <= 0) throw std::invalid_argument("timer_wheel: resolution must be positive");
  // Division by an invariant integer (Granlund and Montgomery, "Division by Invariant Integers
  // using Multiplication", PLDI 1994): with l = ceil(log2 d) and m = ceil(2^(63+l) / d), which
  // fits in 64 bits when d is not a power of two, n / d == (n * m) >> (63 + l) for n < 2^63.
  const auto d = static_cast<std::uint64_t>(resolution_ns_);
  if (std::has_single_bit(d)) {
    tick_shift_ = static_cast<std::uint32_t>(std::countr_zero(d));
  } else {
    const auto l = static_cast<std::uint32_t>(std::bit_width(d));
    tick_magic_ = static_cast<std::uint64_t>(((u128{1} << (63 + l)) + d - 1) / d);
    tick_shift_ = l - 1;
  }
  cur_ = tick_of(cfg.start.time_since_epoch().count());
  nodes_.emplace_back().where = free_node;
}

timer_id timer_wheel::schedule(time_point deadline, std::uint64_t token) {
  const std::uint32_t i = acquire();
  node& n = nodes_[i];
  n.deadline = deadline.time_since_epoch().count();
  n.seq = next_seq_;
  n.token = token;
  try {
    if (firing_ && tick_of(n.deadline) <= cur_ && n.deadline <= firing_now_ns_) [[unlikely]] {
      push_due(i);  // due in the advance that is running: merge it into the firing order
    } else {
      place(i);
    }
  } catch (...) {
    recycle(i);
    throw;
  }
  ++next_seq_;
  ++pending_;
  return {i, n.generation};
}

bool timer_wheel::cancel(timer_id id) noexcept {
  if (id.index == 0 || id.index >= nodes_.size()) return false;
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

void timer_wheel::reserve(std::size_t n) { nodes_.reserve(n + 1); }

std::uint64_t timer_wheel::tick_of(std::int64_t ns) const noexcept {
  if (ns <= 0) return 0;
  const auto n = static_cast<std::uint64_t>(ns);
  if (tick_magic_ == 0) return n >> tick_shift_;
  return static_cast<std::uint64_t>((u128{n} * tick_magic_) >> 64) >> tick_shift_;
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
    for (const std::uint32_t i : slots_[slot]) m = std::min(m, nodes_[i].deadline);
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
    free_head_ = nodes_[i].pos;
    return i;
  }
  if (nodes_.size() >= free_node) throw std::length_error("timer_wheel: too many pending timers");
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void timer_wheel::recycle(std::uint32_t i) noexcept {
  nodes_[i].where = free_node;
  nodes_[i].pos = free_head_;
  free_head_ = i;
}

void timer_wheel::place(std::uint32_t i) {
  node& n = nodes_[i];
  const std::uint64_t tick = tick_of(n.deadline);
  const std::uint32_t slot = slot_for(tick > cur_ ? tick : cur_);
  std::vector<std::uint32_t>& v = slots_[slot];
  v.push_back(i);
  n.where = slot;
  n.pos = static_cast<std::uint32_t>(v.size() - 1);
  if (v.size() == 1) {
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
  std::vector<std::uint32_t>& v = slots_[n.where];
  const std::uint32_t last = v.back();
  v[n.pos] = last;
  nodes_[last].pos = n.pos;
  v.pop_back();
  if (v.empty()) {
    occupied_[n.where / slots_per_level] &= ~bit_of(n.where);
  } else if (n.deadline == slot_min_[n.where]) {
    min_exact_[n.where] = false;
  }
}

void timer_wheel::cascade(std::uint32_t slot) noexcept {
  spare_.swap(slots_[slot]);
  occupied_[slot / slots_per_level] &= ~bit_of(slot);
  for (std::size_t k = 0; k < spare_.size(); ++k) {
    if (k + prefetch_distance < spare_.size()) __builtin_prefetch(&nodes_[spare_[k + prefetch_distance]]);
    place(spare_[k]);  // to a lower level, or back to overflow: never to spare_
  }
  spare_.clear();
}

void timer_wheel::push_due(std::uint32_t i) {
  batch_.push_back({nodes_[i].deadline, nodes_[i].seq, i});
  nodes_[i].where = in_batch;
  std::push_heap(batch_.begin(), batch_.end(), later);
}

bool timer_wheel::collect_due(std::int64_t now_ns, bool whole_slot) {
  const auto slot = static_cast<std::uint32_t>(cur_ & digit_mask);
  if ((occupied_[0] & bit_of(slot)) == 0 || (!whole_slot && slot_min_[slot] > now_ns)) return false;
  std::vector<std::uint32_t>& v = slots_[slot];
  batch_.reserve(batch_.size() + v.size());  // the only allocation: throws before any change
  std::size_t kept = 0;
  std::int64_t rest = std::numeric_limits<std::int64_t>::max();
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (k + prefetch_distance < v.size()) __builtin_prefetch(&nodes_[v[k + prefetch_distance]]);
    const std::uint32_t i = v[k];
    node& n = nodes_[i];
    if (whole_slot || n.deadline <= now_ns) {
      batch_.push_back({n.deadline, n.seq, i});
      n.where = in_batch;
    } else {
      rest = std::min(rest, n.deadline);
      n.pos = static_cast<std::uint32_t>(kept);
      v[kept++] = i;
    }
  }
  v.resize(kept);
  if (kept == 0) occupied_[0] &= ~bit_of(slot);
  slot_min_[slot] = rest;
  min_exact_[slot] = true;
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
