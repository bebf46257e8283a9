#include "courier/runtime/detail/system_core.hpp"

#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "courier/runtime/detail/actor_cell.hpp"

namespace courier::detail {

void system_core::dead_letter(message_ptr msg, actor_cell* receiver, dead_letter_reason why) noexcept {
  dead_[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr && receiver != nullptr)
    bump(metrics_->local().of(receiver->metrics_type()).dead[static_cast<std::size_t>(why)]);
  const bool to_sink = sink_ && !detached();
  if (!to_sink && hub_->empty()) return;
  actor_ref to;
  if (receiver != nullptr) {
    receiver->add_ref();
    to = actor_ref::adopt(receiver);
  }
  const courier::dead_letter letter{std::move(msg), std::move(to), why};
  // The sinks are user code, which may wait for actors this thread has
  // scheduled in a burst (a bus fan-out that met a stopped subscriber).
  exec_->flush_burst();
  if (to_sink) sink_(letter);
  hub_->publish(letter);
}

std::uint64_t dead_letter_hub::add(dead_letter_sink sink) {
  auto e = std::make_shared<entry>();
  e->sink = std::move(sink);
  std::lock_guard lock{mutex_};
  e->id = next_id_++;
  auto next = std::make_shared<list>(*sinks_);
  next->push_back(std::move(e));
  sinks_ = std::move(next);
  count_.fetch_add(1, std::memory_order_release);
  return next_id_ - 1;
}

namespace {
/// A sink call running on this thread; they chain outwards, since a sink may
/// cause a dead letter, and so the calls of more sinks, inside its own.
struct sink_call {
  const void* sink;
  const sink_call* outer;
};
// The innermost sink call on this thread: remove() must not wait for calls
// its own thread will only return to after it.
thread_local const sink_call* running_sinks = nullptr;
}  // namespace

void dead_letter_hub::remove(std::uint64_t id) noexcept {
  std::shared_ptr<entry> removed;
  {
    std::shared_ptr<const list> old;  // released outside the lock: it may hold the last sink
    std::lock_guard lock{mutex_};
    auto next = std::make_shared<list>();
    for (const auto& e : *sinks_) {
      if (e->id == id)
        removed = e;
      else
        next->push_back(e);
    }
    if (!removed) return;
    old = std::exchange(sinks_, std::move(next));
    count_.fetch_sub(1, std::memory_order_release);
  }
  // seq_cst store, then seq_cst load of calls: Dekker with publish(), which
  // raises calls before reading active. Either it sees the sink inactive, or
  // we see its call and wait for it.
  removed->active.store(false, std::memory_order_seq_cst);
  std::uint32_t own = 0;
  for (const sink_call* c = running_sinks; c != nullptr; c = c->outer) own += c->sink == removed.get() ? 1 : 0;
  while (removed->calls.load(std::memory_order_seq_cst) > own) std::this_thread::yield();
}

void dead_letter_hub::publish(const courier::dead_letter& d) const noexcept {
  std::shared_ptr<const list> snapshot;
  {
    std::lock_guard lock{mutex_};
    snapshot = sinks_;
  }
  for (const auto& e : *snapshot) {
    e->calls.fetch_add(1, std::memory_order_seq_cst);  // see remove()
    if (e->active.load(std::memory_order_seq_cst)) {
      const sink_call call{e.get(), running_sinks};
      running_sinks = &call;
      e->sink(d);
      running_sinks = call.outer;
    }
    // release: the sink's effects happen before remove() sees the call end.
    e->calls.fetch_sub(1, std::memory_order_release);
  }
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
  if (const cell_counters* k = c->counters_) {
    // The vector grows once per type and shard; a failed growth loses only
    // this actor's share of the totals, never the process.
    try {
      if (s.retired.size() <= k->type) s.retired.resize(k->type + 1);
    } catch (const std::bad_alloc&) {
      return;
    }
    retired_counters& r = s.retired[k->type];
    r.handled += k->handled.load(std::memory_order_relaxed);
    r.depth_max = std::max(r.depth_max, k->depth_max.load(std::memory_order_relaxed));
  }
}

std::vector<system_core::cell_sums> system_core::sum_cell_counters() const {
  std::vector<cell_sums> by_type(max_actor_types + 1);
  for (const shard& s : shards_) {
    std::lock_guard lock{s.mutex};
    for (std::size_t t = 0; t < s.retired.size(); ++t) {
      by_type[t].handled += s.retired[t].handled;
      by_type[t].depth_max = std::max(by_type[t].depth_max, s.retired[t].depth_max);
    }
    for (const actor_cell* c = s.head; c != nullptr; c = c->next_) {
      const cell_counters* k = c->counters_;
      if (k == nullptr) continue;
      cell_sums& sum = by_type[k->type];
      sum.handled += k->handled.load(std::memory_order_relaxed);
      sum.depth += k->depth();
      sum.depth_max = std::max(sum.depth_max, k->depth_max.load(std::memory_order_relaxed));
    }
  }
  return by_type;
}

void system_core::stop_all() noexcept {
  std::vector<actor_cell*> live;
  for (shard& s : shards_) {
    std::lock_guard lock{s.mutex};
    for (actor_cell* c = s.head; c != nullptr; c = c->next_)
      if (c->try_add_ref()) live.push_back(c);
  }
  for (actor_cell* c : live) {
    c->request_stop(exit_reason::shutdown);
    c->release();
  }
}

}  // namespace courier::detail

namespace courier {

void dead_letter_subscription::unsubscribe() noexcept {
  if (!hub_) return;
  hub_->remove(id_);
  hub_.reset();
}

}  // namespace courier
