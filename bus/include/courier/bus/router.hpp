#pragma once

// The router maps subscription patterns to subscriber ids.
//
// Structure. A token trie, after the NATS server's sublist
// (nats-server, server/sublist.go). A node holds its literal children keyed by
// token, a `*` child, the ids whose pattern ends at the node, and the ids whose
// pattern ends at the node with a `>`. A walk for an n-token subject visits at
// most 2^n nodes and usually n or so.
//
// Concurrency. add() and remove() are rare; match() is the publish hot path.
// - Writers take mutex_ exclusively, change the trie, and bump generation_
//   before unlocking. A no-op add or remove bumps nothing.
// - Each thread keeps, per router, a cache from subject to match_set together
//   with the generation its entries were computed at. match() loads
//   generation_ and, if it equals the cache's, answers from the cache: no lock,
//   no write to memory shared with other threads, and a cost independent of the
//   number of subscriptions. The match_set handed out was built by this
//   thread, so copying the shared_ptr touches a control block no other thread
//   contends for.
// - When generation_ has moved, the thread drops its whole cache for that
//   router: subscriptions change rarely, so this is cheaper than tracking which
//   subjects a pattern touches.
// - On a miss, match() validates the subject, walks the trie under a shared
//   lock, and labels the result with the generation read under that lock, so a
//   cached result is exactly the subscription set at its generation.
// - std::shared_mutex may prefer readers (glibc's does), so a steady stream of
//   misses could starve a writer forever. A ticket gate prevents that: a
//   writer takes a ticket before locking, and a miss first waits, on an
//   atomic and without a lock, until every writer ticketed before it has
//   finished. Only the walks already under way can then delay a writer.
// - Memory is bounded: at most router_config::cache_capacity entries per
//   thread per router (the cache is cleared when full), and caches for at most
//   a few routers per thread (least recently used first out, caches of
//   destroyed routers dropped before that).
//
// Consistency. Every match_set is the exact subscription set at one
// generation. A match() that happens after an add() or remove() returned sees
// its effect, and one thread never sees a generation older than one it has
// already seen.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/bus/errc.hpp"
#include "courier/bus/subject.hpp"

namespace courier {
namespace detail {
class per_thread_owner;
}

/// Identifies one subscriber to the router.
using sub_id = std::uint64_t;

/// The ids matching a subject, ascending and without duplicates; shared and immutable.
using match_set = std::shared_ptr<const std::vector<sub_id>>;

/// Tuning for a router.
struct router_config {
  /// Most cached subjects per thread; the cache is cleared when it is full. 0 disables caching.
  std::size_t cache_capacity = 4096;
};

/// Maps subscription patterns to subscriber ids and finds the ids matching a subject.
class router {
 public:
  /// Creates an empty router.
  explicit router(router_config cfg = {});
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Subscribes `id` to `pattern`; adding a pair already present does nothing.
  /// Returns errc::invalid_subject when validate_pattern(pattern) fails.
  /// @threadsafe
  result<void> add(std::string_view pattern, sub_id id);

  /// Unsubscribes `id` from `pattern`; returns false when the pair was not present.
  /// @threadsafe
  bool remove(std::string_view pattern, sub_id id);

  /// The ids whose patterns match `subject`, or errc::invalid_subject when
  /// validate_subject(subject) fails. Allocation failure terminates.
  /// @threadsafe; takes no exclusive lock, and no lock at all on a cache hit.
  result<match_set> match(std::string_view subject) const noexcept;

  /// Number of (pattern, id) subscriptions.
  /// @threadsafe
  std::size_t size() const;

  /// Counter bumped by every add() or remove() that changed the subscriptions.
  /// @threadsafe
  std::uint64_t generation() const noexcept;

 private:
  struct node;
  class write_lock;

  std::pair<match_set, std::uint64_t> walk(std::string_view subject) const;
  void wait_for_earlier_writers() const noexcept;
  void bump() noexcept;

  router_config config_;
  std::unique_ptr<detail::per_thread_owner> cache_owner_;  // keys each thread's cache
  mutable std::shared_mutex mutex_;
  std::unique_ptr<node> root_;
  std::size_t size_ = 0;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::uint32_t> write_tickets_{0};
  std::atomic<std::uint32_t> writes_done_{0};
};

}  // namespace courier
