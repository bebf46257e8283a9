#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/clock.hpp"
#include "courier/runtime/random.hpp"
#include "courier/runtime/supervision.hpp"
#include "courier/runtime/timer_wheel.hpp"

namespace courier::detail {

class actor_cell;

/// Everything an actor cell knows about its life beyond the mailbox:
/// monitors, links, its supervisor and children, restart history and its
/// idle timer. Allocated on first use, so a plain actor pays one pointer.
///
/// `mutex` guards the fields shared with other threads (marked "shared");
/// the rest belong to whoever runs the cell's turn. Never hold two cells'
/// mutexes at once.
struct lifecycle_state {
  std::mutex mutex;

  // Shared: set once the actor stopped; later monitors and links see it at once.
  bool exited = false;
  std::string what;  // the failure text, once failed

  struct watch {
    std::uint64_t seq;
    actor_ref watcher;
  };
  std::vector<watch> watchers;   // shared
  std::vector<actor_ref> links;  // shared
  bool trap_exit = false;        // shared: read by a linked actor that stops

  // Shared: this actor's supervision as a child, fixed at spawn.
  actor_ref parent;  // empty for a top-level actor
  bool supervised = false;
  supervision spec = {};
  std::function<void(actor_cell&)> rebuild;  // constructs a fresh behaviour

  // Shared: this actor as a parent.
  supervision_group group = supervision_group::one_for_one;
  std::vector<actor_ref> children;
  std::string escalated;  // a child's error waiting for this actor's next turn

  // Turn-owned: restart history.
  std::deque<time_point> restarts;
  std::uint32_t backoff_attempt = 0;
  time_point built_at = {};
  splitmix64 rng{0};
  timer_id backoff_timer = {};
  bool backoff_pending = false;

  // Shared with the idle timer's callback.
  duration idle = duration::zero();
  std::function<void()> idle_fn;
  time_point last_active = {};
  std::uint64_t idle_generation = 0;
  timer_id idle_timer = {};
  bool idle_armed = false;
};

}  // namespace courier::detail
