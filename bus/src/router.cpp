#include "courier/bus/router.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <unordered_map>

#include "per_thread.hpp"

namespace courier {
namespace {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

struct tokens {
  std::array<std::string_view, max_subject_tokens> items;
  std::size_t count = 0;

  /// @pre s passed validate_subject or validate_pattern
  explicit tokens(std::string_view s) noexcept {
    for (std::string_view t : token_view{s}) items[count++] = t;
  }
};

/// One thread's cache of match results for one router.
struct thread_cache {
  std::uint64_t generation = 0;
  string_map<match_set> entries;
};

}  // namespace

struct router::node {
  string_map<std::unique_ptr<node>> children;
  std::unique_ptr<node> star;
  std::vector<sub_id> subs;  // ascending; patterns ending here
  std::vector<sub_id> tail;  // ascending; patterns ending here with `>`

  bool empty() const noexcept { return children.empty() && !star && subs.empty() && tail.empty(); }

  node* child(std::string_view token) const noexcept {
    if (token == "*") return star.get();
    auto it = children.find(token);
    return it == children.end() ? nullptr : it->second.get();
  }

  node& child_or_create(std::string_view token) {
    if (token == "*") {
      if (!star) star = std::make_unique<node>();
      return *star;
    }
    auto it = children.find(token);
    if (it == children.end())
      it = children.emplace(std::string{token}, std::make_unique<node>()).first;
    return *it->second;
  }

  void erase_child(std::string_view token) {
    if (token == "*") {
      star.reset();
    } else if (auto it = children.find(token); it != children.end()) {
      children.erase(it);
    }
  }

  void collect(const tokens& t, std::size_t i, std::vector<sub_id>& out) const {
    if (i == t.count) {
      out.insert(out.end(), subs.begin(), subs.end());
      return;
    }
    out.insert(out.end(), tail.begin(), tail.end());
    if (auto it = children.find(t.items[i]); it != children.end())
      it->second->collect(t, i + 1, out);
    if (star) star->collect(t, i + 1, out);
  }
};

/// The exclusive side of mutex_, behind the ticket gate described in router.hpp.
class router::write_lock {
 public:
  explicit write_lock(router& r) : r_(r) {
    // Relaxed: the gate only affects liveness; mutex_ orders the trie accesses.
    r_.write_tickets_.fetch_add(1, std::memory_order_relaxed);
    r_.mutex_.lock();
  }
  ~write_lock() {
    r_.mutex_.unlock();
    // Relaxed: as above; this only releases misses waiting in wait_for_earlier_writers().
    r_.writes_done_.fetch_add(1, std::memory_order_relaxed);
    r_.writes_done_.notify_all();
  }
  write_lock(const write_lock&) = delete;
  write_lock& operator=(const write_lock&) = delete;

 private:
  router& r_;
};

router::router(router_config cfg)
    : config_(cfg), cache_owner_(std::make_unique<detail::per_thread_owner>()), root_(std::make_unique<node>()) {}

router::~router() = default;

result<void> router::add(std::string_view pattern, sub_id id) {
  if (validate_pattern(pattern) != errc::ok) return errc::invalid_subject;
  tokens t{pattern};
  const bool is_tail = t.items[t.count - 1] == ">";
  write_lock lock{*this};
  node* n = root_.get();
  for (std::size_t i = 0; i < t.count - (is_tail ? 1 : 0); ++i) n = &n->child_or_create(t.items[i]);
  auto& ids = is_tail ? n->tail : n->subs;
  auto pos = std::lower_bound(ids.begin(), ids.end(), id);
  if (pos != ids.end() && *pos == id) return {};
  ids.insert(pos, id);
  ++size_;
  bump();
  return {};
}

bool router::remove(std::string_view pattern, sub_id id) {
  if (validate_pattern(pattern) != errc::ok) return false;
  tokens t{pattern};
  const bool is_tail = t.items[t.count - 1] == ">";
  const std::size_t depth = t.count - (is_tail ? 1 : 0);
  std::array<node*, max_subject_tokens + 1> path{};
  write_lock lock{*this};
  path[0] = root_.get();
  for (std::size_t i = 0; i < depth; ++i) {
    path[i + 1] = path[i]->child(t.items[i]);
    if (path[i + 1] == nullptr) return false;
  }
  auto& ids = is_tail ? path[depth]->tail : path[depth]->subs;
  auto pos = std::lower_bound(ids.begin(), ids.end(), id);
  if (pos == ids.end() || *pos != id) return false;
  ids.erase(pos);
  for (std::size_t i = depth; i > 0 && path[i]->empty(); --i)
    path[i - 1]->erase_child(t.items[i - 1]);
  --size_;
  bump();
  return true;
}

result<match_set> router::match(std::string_view subject) const noexcept {
  if (subject.size() > max_subject_length) return errc::invalid_subject;  // before hashing it
  // Relaxed is enough: the generation only decides whether this thread's own
  // cache is current; the trie itself is read under mutex_. Coherence still
  // guarantees we see any bump that happened before this call.
  const std::uint64_t generation = generation_.load(std::memory_order_relaxed);
  thread_cache& cache = detail::per_thread<thread_cache>(*cache_owner_);
  if (cache.generation != generation) {
    cache.entries.clear();
    cache.generation = generation;
  }
  if (auto it = cache.entries.find(subject); it != cache.entries.end()) return it->second;
  if (validate_subject(subject) != errc::ok) return errc::invalid_subject;
  auto [set, walked_at] = walk(subject);
  if (config_.cache_capacity == 0) return set;
  if (walked_at != cache.generation || cache.entries.size() >= config_.cache_capacity) {
    cache.entries.clear();
    cache.generation = walked_at;
  }
  cache.entries.emplace(subject, set);
  return set;
}

std::pair<match_set, std::uint64_t> router::walk(std::string_view subject) const {
  tokens t{subject};
  std::vector<sub_id> ids;
  std::uint64_t generation = 0;
  {
    wait_for_earlier_writers();
    std::shared_lock lock{mutex_};
    // Stable while we hold the lock: writers bump it only under the exclusive lock.
    generation = generation_.load(std::memory_order_relaxed);
    root_->collect(t, 0, ids);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return {std::make_shared<const std::vector<sub_id>>(std::move(ids)), generation};
}

void router::wait_for_earlier_writers() const noexcept {
  // Relaxed: liveness only, see write_lock. Counters wrap, so compare by signed distance.
  const std::uint32_t ticket = write_tickets_.load(std::memory_order_relaxed);
  for (std::uint32_t done = writes_done_.load(std::memory_order_relaxed);
       static_cast<std::int32_t>(done - ticket) < 0;
       done = writes_done_.load(std::memory_order_relaxed)) {
    writes_done_.wait(done, std::memory_order_relaxed);
  }
}

std::size_t router::size() const {
  std::shared_lock lock{mutex_};
  return size_;
}

std::uint64_t router::generation() const noexcept {
  return generation_.load(std::memory_order_relaxed);
}

void router::bump() noexcept {
  // Relaxed: called under the exclusive lock, which orders it against the
  // relaxed load in walk(); match()'s unlocked load needs only coherence.
  generation_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace courier
