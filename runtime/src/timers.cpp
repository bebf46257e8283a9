#include "courier/runtime/timers.hpp"
#include "courier/runtime/delayed.hpp"

namespace courier {

timer_service::timer_service(const courier::clock& c, duration resolution)
    : wheel_{timer_wheel::config{.resolution = resolution, .start = c.now()}}, clock_{c} {}

std::uint64_t timer_service::store(callback fn) {
  if (!free_.empty()) {
    std::uint64_t token = free_.back();
    free_.pop_back();
    callbacks_[token] = std::move(fn);
    return token;
  }
  callbacks_.push_back(std::move(fn));
  return callbacks_.size() - 1;
}

timer_id timer_service::start_at(time_point deadline, callback fn) {
  std::lock_guard lock{mutex_};
  auto before = wheel_.next_deadline();
  const std::uint64_t token = store(std::move(fn));
  timer_id id = wheel_.schedule(deadline, token);
  if (id.index >= token_by_index_.size()) token_by_index_.resize(id.index + 1);
  token_by_index_[id.index] = token;
  if (!before || deadline < *before) earliest_changed(deadline);
  return id;
}

bool timer_service::cancel(timer_id id) noexcept {
  callback dropped;  // destroyed after unlocking: it may own actor references
  std::lock_guard lock{mutex_};
  if (!wheel_.cancel(id)) return false;
  const std::uint64_t token = token_by_index_[id.index];
  dropped = std::move(callbacks_[token]);
  callbacks_[token] = nullptr;
  free_.push_back(token);
  return true;
}

std::size_t timer_service::pending() const {
  std::lock_guard lock{mutex_};
  return wheel_.pending();
}

std::size_t timer_service::fire_due(time_point now) {
  std::vector<callback> due;
  {
    std::lock_guard lock{mutex_};
    wheel_.advance(now, [&](std::uint64_t token) {
      due.push_back(std::move(callbacks_[token]));
      callbacks_[token] = nullptr;
      free_.push_back(token);
    });
  }
  for (auto& fn : due)
    if (fn) fn();
  return due.size();
}

namespace {
// Shared and built before any real_time_timers, so the base class may read it
// while the derived object is still being constructed.
const courier::steady_clock& real_time() noexcept {
  static const courier::steady_clock c;
  return c;
}
}  // namespace

real_time_timers::real_time_timers(duration resolution)
    : timer_service{real_time(), resolution}, thread_{[this] { loop(); }} {}

real_time_timers::~real_time_timers() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void real_time_timers::loop() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    auto next = wheel_.next_deadline();
    if (!next) {
      wakes_at_ = time_point::max();
      wake_.wait(lock);
      wakes_at_ = time_point::min();
      continue;
    }
    if (now() < *next) {
      wakes_at_ = *next;
      wake_.wait_until(lock, *next);
      wakes_at_ = time_point::min();
      continue;
    }
    lock.unlock();
    fire_due(now());
    lock.lock();
  }
}

std::size_t virtual_timers::advance(duration d) {
  const time_point target = now() + d;
  std::size_t fired = 0;
  // Step deadline by deadline so that a timer started by a callback for a
  // moment before `target` still fires, with the clock reading its deadline.
  while (auto next = next_deadline()) {
    if (*next > target) break;
    virtual_.advance_to(*next);
    fired += fire_due(*next);
  }
  virtual_.advance_to(target);
  return fired;
}

bool virtual_timers::advance_to_next() {
  auto next = next_deadline();
  if (!next) return false;
  virtual_.advance_to(*next);
  fire_due(*next);
  return true;
}

std::optional<time_point> virtual_timers::next_deadline() const {
  std::lock_guard lock{mutex_};
  return wheel_.next_deadline();
}

}  // namespace courier

namespace courier::detail {

void arm_periodic(const std::shared_ptr<periodic_handle::state>& s) {
  std::lock_guard lock{s->mutex};
  if (s->cancelled) return;
  std::weak_ptr<periodic_handle::state> weak = s;
  s->id = s->timers->start_at(s->next, [weak] {
    auto st = weak.lock();
    if (!st) return;
    {
      std::lock_guard inner{st->mutex};
      if (st->cancelled) return;
      st->next += st->period;
    }
    st->to.send_shared(st->msg);
    arm_periodic(st);
  });
}

}  // namespace courier::detail
