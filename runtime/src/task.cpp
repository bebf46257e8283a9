// Coroutine handlers: starting them, parking them while they wait, resuming
// them in the actor's own turn, and destroying them when the actor stops.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "courier/runtime/actor.hpp"
#include "courier/runtime/detail/actor_cell.hpp"
#include "courier/runtime/detail/task_state.hpp"

namespace courier {

void waker::wake() noexcept {
  const actor_ref cell = std::move(cell_);  // a second wake() finds it empty
  if (cell) cell.cell()->wake_task(id_);
}

namespace detail {
namespace {

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

std::exception_ptr unwakeable() {
  return std::make_exception_ptr(std::logic_error(
      "a handler coroutine suspended on an awaitable that took no courier::waker"));
}

/// Sends a finished coroutine's value to the requester, if `m` is a request.
void reply_with(const message& m, message_ptr value) noexcept {
  const message_meta* meta = m.meta();
  if (value && meta != nullptr && meta->replies != nullptr) meta->replies->reply(std::move(value));
}

}  // namespace

waker task_promise_base::suspend() noexcept {
  waiting_for_ = cell_->tasks_->next_id++;
  return waker{cell_->self_ref(), waiting_for_};
}

void start_task(actor& self, task_frame f) { self.cell_->begin_task(f); }

task_state& actor_cell::tasks() {
  if (tasks_ == nullptr) tasks_ = new task_state;
  return *tasks_;
}

void actor_cell::begin_task(task_frame f) {
  tasks();
  f.promise->cell_ = this;
  f.co.resume();
  if (!f.co.done() && f.promise->waiting_for_ != 0) {
    tasks_->started = f;  // handle() adopts it with its message
    return;
  }
  std::exception_ptr error = f.co.done() ? std::exchange(f.promise->error_, nullptr) : unwakeable();
  message_ptr value = std::move(f.promise->reply_);
  f.co.destroy();
  if (error) std::rethrow_exception(error);
  reply_with(*current_message(), std::move(value));
}

bool actor_cell::adopt_started_task(mail_hook* h) noexcept {
  if (!tasks_->started.co) return false;
  const task_frame f = std::exchange(tasks_->started, task_frame{});
  f.promise->hook_ = h;
  tasks_->live.push_back(f);
  if (!f.promise->reentrant()) ++tasks_->holding;
  return true;
}

void actor_cell::wake_task(std::uint64_t id) noexcept {
  {
    std::lock_guard lock{tasks_->mutex};
    tasks_->woken.push_back(id);
    // seq_cst store: Dekker with end_turn(), which clears scheduled_ and then
    // reads pending; schedule_if_idle() below reads scheduled_ after this.
    tasks_->pending.store(true, std::memory_order_seq_cst);
  }
  schedule_if_idle();
}

bool actor_cell::wakes_pending(const task_state* tasks) noexcept {
  // seq_cst load: second half of the Dekker pattern described in wake_task().
  return tasks != nullptr && tasks->pending.load(std::memory_order_seq_cst);
}

bool actor_cell::tasks_hold_mail() const noexcept { return tasks_->holding > 0; }

void actor_cell::resume_woken() noexcept {
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock{tasks_->mutex};
    ids.swap(tasks_->woken);
    tasks_->pending.store(false,
                          std::memory_order_relaxed);  // the mutex orders it with wake_task()
  }
  for (std::uint64_t id : ids) {
    if (life_.load(std::memory_order_acquire) != life::running || core_->stopping() || suspended_)
      return;
    auto& live = tasks_->live;
    auto it = std::find_if(live.begin(), live.end(),
                           [id](const task_frame& f) { return f.promise->waiting_for_ == id; });
    if (it != live.end()) resume_task(*it);  // a stale id (its frame was dropped) finds nothing
  }
}

void actor_cell::resume_task(task_frame f) noexcept {
  f.promise->waiting_for_ = 0;
  {
    current_message_scope scope{f.promise->hook_->msg()};
    f.co.resume();
  }
  if (!f.co.done() && f.promise->waiting_for_ == 0)
    end_task(f, unwakeable());
  else if (f.co.done())
    end_task(f, std::exchange(f.promise->error_, nullptr));
}

void actor_cell::end_task(task_frame f, std::exception_ptr error) noexcept {
  auto& live = tasks_->live;
  live.erase(
      std::find_if(live.begin(), live.end(), [&](const task_frame& g) { return g.co == f.co; }));
  if (!f.promise->reentrant()) --tasks_->holding;
  mail_hook* h = f.promise->hook_;
  message_ptr value = std::move(f.promise->reply_);
  f.co.destroy();
  if (error) return fail(h, describe(error));  // supervision may restart: other frames are dropped
  reply_with(*h->msg(), std::move(value));
  finish(h);
}

void actor_cell::drop_tasks() noexcept {
  if (tasks_ == nullptr) return;
  std::vector<task_frame> live;
  live.swap(tasks_->live);
  tasks_->holding = 0;
  {
    std::lock_guard lock{tasks_->mutex};
    tasks_->woken.clear();  // every id in it belonged to a frame dropped here
    tasks_->pending.store(false, std::memory_order_relaxed);
  }
  // In the cell's destructor no reference is left to lend a dead letter.
  actor_cell* receiver = refs_.load(std::memory_order_relaxed) == 0 ? nullptr : this;
  for (const task_frame& f : live) {
    mail_hook* h = f.promise->hook_;
    f.co.destroy();  // runs the frame's destructors: an awaiter cancels what it waits for
    core_->dead_letter(take(h), receiver, dead_letter_reason::stopped);
  }
}

void actor_cell::free_tasks() noexcept {
  delete tasks_;
  tasks_ = nullptr;
}

}  // namespace detail
}  // namespace courier
