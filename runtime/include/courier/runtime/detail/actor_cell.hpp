#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/detail/system_core.hpp"
#include "courier/runtime/executor.hpp"
#include "courier/runtime/memory.hpp"
#include "courier/runtime/mpsc_queue.hpp"

namespace courier {
class actor;
}

namespace courier::detail {

/// Calls the handler for a message's type on a behaviour.
using handler_fn = void (*)(actor& self, const message& msg);

/// Marks the message a handler on this thread is handling.
struct current_message_scope {
  explicit current_message_scope(const message* m) noexcept;
  ~current_message_scope();
  current_message_scope(const current_message_scope&) = delete;
  current_message_scope& operator=(const current_message_scope&) = delete;
  const message* previous;
};

/// A per-actor-type table from message type id to handler.
class dispatch_table {
 public:
  void set(type_id t, handler_fn f) {
    if (t >= handlers_.size()) handlers_.resize(t + 1, nullptr);
    handlers_[t] = f;
  }
  /// A handler for every type not in the table (used by the bus's callback actors).
  void set_fallback(handler_fn f) noexcept { fallback_ = f; }
  [[nodiscard]] handler_fn find(type_id t) const noexcept {
    return t < handlers_.size() && handlers_[t] != nullptr ? handlers_[t] : fallback_;
  }

 private:
  std::vector<handler_fn> handlers_;  // indexed by type id; ids are dense
  handler_fn fallback_ = nullptr;
};

/// The runtime half of an actor: its mailbox, its scheduling state and a
/// pointer to its behaviour (the user's object). The behaviour can be torn
/// down and rebuilt while the cell, and so every actor_ref, stays the same.
class actor_cell : public runnable, public uses_courier_allocator {
 public:
  enum class life : std::uint8_t { running, stop_requested, stopped };

  actor_cell(system_core& core, const dispatch_table& table) noexcept;
  actor_cell(const actor_cell&) = delete;
  actor_cell& operator=(const actor_cell&) = delete;

  /// Queues `h` and schedules the actor if it was idle; false if dead-lettered.
  bool enqueue(mail_hook* h) noexcept;
  void request_stop() noexcept;
  [[nodiscard]] life state() const noexcept { return life_.load(std::memory_order_acquire); }
  [[nodiscard]] system_core& core() const noexcept { return *core_; }

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  /// Adds a reference unless the count already reached zero.
  bool try_add_ref() noexcept;
  void release() noexcept {
    // acq_rel: the last owner must see every other owner's writes to the cell.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  void run() noexcept final;
  /// Called once the behaviour is constructed: schedules what it sent itself.
  void start() noexcept;

 protected:
  virtual ~actor_cell();
  /// Destroys the behaviour; the cell stays.
  virtual void destruct() noexcept = 0;
  actor* behaviour_ = nullptr;

 private:
  void destroy() noexcept { delete this; }
  void schedule_if_idle() noexcept;
  void handle(mail_hook* h) noexcept;
  void close() noexcept;
  void drain(dead_letter_reason why) noexcept;
  void end_turn(bool used_whole_turn) noexcept;
  void finish(mail_hook* h) noexcept;
  message_ptr take(mail_hook* h) noexcept;
  void retire(mail_node* n) noexcept;
  void fail(mail_hook* h, const char* what) noexcept;
  mail_hook* pop() noexcept;

  friend class system_core;
  actor_cell* prev_ = nullptr;  // the core's registry of live cells
  actor_cell* next_ = nullptr;

  mpsc_queue mailbox_;
  system_core* core_;
  const dispatch_table* table_;
  std::atomic<std::uint32_t> refs_{1};
  // Starts set: messages sent while the behaviour is being constructed wait
  // until start(), so a constructor that throws leaves nothing scheduled.
  std::atomic<bool> scheduled_{true};
  std::atomic<life> life_{life::running};
};

}  // namespace courier::detail
