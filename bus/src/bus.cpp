#include "courier/bus/bus.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "courier/bus/codec.hpp"
#include "courier/bus/flat_dedupe.hpp"
#include "courier/bus/router.hpp"
#include "per_thread.hpp"
#include "subject_table.hpp"

namespace courier {
namespace detail {

/// The mailbox nodes of one publish's fan-out past its first subscriber,
/// allocated together. The block holds one reference to the message for all
/// its nodes, which hold none, so a delivery costs no allocation and, on the
/// subscriber's worker, one decrement of the block's count instead of a free
/// and a reference release; the decrement is atomic unless the bus's system
/// is confined to one thread. The block frees itself, and drops its
/// reference, once the publish has closed it and every node it handed out
/// has been disposed of.
class fanout_block {
 public:
  /// A block for up to `capacity` nodes carrying `m`; `s` says whether
  /// other threads share it (see sharing), which every count it keeps follows.
  static fanout_block* make(message* m, std::uint32_t capacity, sharing s) {
    void* mem = allocate(bytes(capacity));
    if (s == sharing::confined) m->add_ref<sharing::confined>();
    else m->add_ref();
    return ::new (mem) fanout_block{m, capacity, s};
  }
  fanout_block(const fanout_block&) = delete;
  fanout_block& operator=(const fanout_block&) = delete;

  /// The next node, or nullptr once all are taken.
  mail_node* take() noexcept {
    if (taken_ == capacity_) return nullptr;
    void* at = &slots()[taken_++];
    if (sharing_ == sharing::confined) return ::new (at) node<sharing::confined>{msg_, this};
    return ::new (at) node<sharing::shared>{msg_, this};
  }
  /// Ends the publish: gives back the shares of the nodes not taken and the publish's own.
  void close() noexcept {
    const std::uint32_t unused = capacity_ - taken_ + 1;
    if (sharing_ == sharing::confined) release<sharing::confined>(unused);
    else release<sharing::shared>(unused);
  }

 private:
  template <sharing S>
  struct node final : mail_node {
    node(message* m, fanout_block* b) noexcept : mail_node{m, borrowed}, block{b} {}
    void dispose() noexcept override { block->release<S>(1); }
    fanout_block* block;
  };
  using slot = node<sharing::shared>;
  static_assert(sizeof(node<sharing::confined>) == sizeof(slot), "either kind of node fits a slot");

  fanout_block(message* m, std::uint32_t capacity, sharing s) noexcept
      : msg_{m}, capacity_{capacity}, live_{capacity + 1}, sharing_{s} {}
  static std::size_t bytes(std::uint32_t capacity) noexcept { return sizeof(fanout_block) + capacity * sizeof(slot); }
  slot* slots() noexcept { return reinterpret_cast<slot*>(this + 1); }

  template <sharing S>
  void release(std::uint32_t n) noexcept {
    // acq_rel: the last one out must see every other node's use of the block.
    if (atomics<S>::fetch_sub(live_, n, std::memory_order_acq_rel) != n) return;
    const std::uint32_t capacity = capacity_;
    message* const msg = msg_;
    auto* nodes = reinterpret_cast<node<S>*>(slots());
    for (std::uint32_t i = 0; i < taken_; ++i) nodes[i].~node();
    this->~fanout_block();
    deallocate(this, bytes(capacity));
    msg->release(S);  // the block's reference, released last
  }

  message* msg_;
  std::uint32_t capacity_;
  std::uint32_t taken_ = 0;  // publishing thread only
  std::atomic<std::uint32_t> live_;
  sharing sharing_;
  // Followed by `capacity_` node slots.
};
static_assert(sizeof(fanout_block) % alignof(mail_node) == 0, "the node slots follow the header, aligned");

/// A schedule burst (executor::begin_burst()) that a publish holds open
/// while it hands plain subscriptions their messages, so that a fan-out
/// wakes the executor's workers once rather than per subscriber. Closed
/// before any other delivery; as this publish may itself run inside an
/// outer burst (a dead-letter sink that publishes), whatever may wait
/// (a tap, an interceptor) also calls flush_burst(), and overflow::block
/// calls prepare_to_block().
class plain_burst {
 public:
  explicit plain_burst(executor& e) noexcept : exec_{e} {}
  plain_burst(const plain_burst&) = delete;
  plain_burst& operator=(const plain_burst&) = delete;
  ~plain_burst() { close(); }

  void open() noexcept {
    if (!open_) exec_.begin_burst();
    open_ = true;
  }
  void close() noexcept {
    if (open_) exec_.end_burst();
    open_ = false;
  }

 private:
  executor& exec_;
  bool open_ = false;
};

/// What one publish counts for its subject: the deliveries it made, added
/// to the subject's count once rather than per subscriber, and where. It
/// also hands the message to plain subscriptions: the first in the
/// message's own hook, the rest in one fanout_block.
struct publish_tally {
  std::uint64_t handed = 0;
  subject_counters* counters = nullptr;
  std::uint32_t fanout = 0;  // the subscriptions the publish may reach; a block when over 1
  sharing shares = sharing::shared;  // the bus's: how the block counts
  bool first_sent = false;
  fanout_block* block = nullptr;

  publish_tally() = default;
  publish_tally(const publish_tally&) = delete;
  publish_tally& operator=(const publish_tally&) = delete;
  ~publish_tally() {
    if (block != nullptr) block->close();
  }

  /// Puts `msg` in `target`'s mailbox.
  void send(const actor_ref& target, const message_ptr& msg) {
    if (first_sent && fanout > 1) {
      if (block == nullptr) block = fanout_block::make(msg.get(), fanout - 1, shares);
      // Full only when an interceptor delivers copies: the rest get a node each.
      if (mail_node* n = block->take()) {
        target.send_node(n);
        return;
      }
    }
    first_sent = true;
    target.send_shared(msg);
  }
};

/// One subscription: its target, its policy and its counters.
struct sub_state {
  sub_id id = 0;
  std::string pattern;
  type_id type = 0;
  actor_ref target;
  subscribe_options opts;
  bool responder = false;
  bool owns_target = false;  // a callback subscription's actor, stopped on unsubscribe
  tap_fn tap;                  // set for a tap: any type, called on the publishing thread
  request_tap_fn on_request;   // a tap's taker of requests no local responder serves
  bus_core* core = nullptr;
  sharing counting = sharing::shared;  // confined when the system's executor is (per-delivery counts)
  // Unbounded, without a queue group, not a tap: a publish that no
  // interceptor holds back hands it the message without admit()'s checks
  // (publish_erased()).
  bool plain = false;
  std::atomic<bool> active{true};
  std::atomic<std::uint64_t> rr{0};  // round-robin cursor when this is a group's first member

  // Bounded delivery. `in_mailbox` messages sit in the actor's mailbox. With
  // drop_oldest at most one does, and the rest wait in `waiting`, where the
  // oldest can still be dropped; all of it under `mutex`. Every other policy
  // claims a slot with a CAS below capacity and gives it back when the actor
  // is done, so neither side takes a lock while there is room. A publisher
  // that blocks spins briefly, then raises `sleepers` and sleeps on `space`;
  // a slot given back wakes it only then.
  std::mutex mutex;
  std::condition_variable space;
  std::deque<message_ptr> waiting;
  std::atomic<std::size_t> in_mailbox{0};
  std::atomic<std::uint32_t> sleepers{0};
  // Inbox dedupe runs in the subscriber's turn (tracked_node::accept()),
  // off the publishing thread; `dedupe_mutex` guards the store.
  std::unique_ptr<dedupe_store> own_dedupe;
  dedupe_store* dedupe = nullptr;
  alignas(64) std::mutex dedupe_mutex;  // a line of its own: publishers read the fields around it
  timer_service* timers = nullptr;
  // Shared with the bus, so a message still queued when the bus is gone can be counted.
  std::shared_ptr<subject_table> subjects;

  alignas(64) std::atomic<std::uint64_t> delivered{0}, duplicates{0}, dropped_newest{0}, dropped_oldest{0}, rejected{0},
      timed_out{0}, dead_lettered{0}, max_depth{0};

  /// Messages queued for the subscriber. @pre mutex is held
  [[nodiscard]] std::size_t depth() const noexcept {
    return waiting.size() + in_mailbox.load(std::memory_order_relaxed);
  }
  /// Whether slots are claimed lock-free (every bounded policy but drop_oldest).
  [[nodiscard]] bool claims_slots() const noexcept {
    return opts.capacity != 0 && opts.policy != overflow::drop_oldest;
  }
  /// Claims a mailbox slot if one is free; returns the depth it makes, or 0 if full.
  std::size_t claim_slot() noexcept {
    std::size_t n = in_mailbox.load(std::memory_order_relaxed);
    while (n < opts.capacity)
      // relaxed: the slot count orders nothing; the mailbox push publishes the message.
      if (in_mailbox.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return n + 1;
    return 0;
  }
  /// Gives back a slot claimed by claim_slot(), waking a publisher asleep in wait_for_slot().
  void release_slot() noexcept {
    // seq_cst, with the load of `sleepers`: the other half of the handshake in wait_for_slot().
    in_mailbox.fetch_sub(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) == 0) return;
    { std::lock_guard lock{mutex}; }  // a sleeper is either before its check, or waiting
    space.notify_one();
  }
  /// Waits until a slot may be free; false if `deadline` passed first.
  bool wait_for_slot(std::chrono::steady_clock::time_point deadline) {
    // A consumer that keeps up frees a slot within microseconds; sleeping
    // would cost a futex call on each side.
    for (int spin = 0; spin < 64; ++spin) {
      if (in_mailbox.load(std::memory_order_relaxed) < opts.capacity) return true;
      std::this_thread::yield();
    }
    std::unique_lock lock{mutex};
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    const bool room = space.wait_until(
        lock, deadline, [&] { return in_mailbox.load(std::memory_order_seq_cst) < opts.capacity; });
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    return room;
  }
  /// Whether the window is checked in the subscriber's turn, off the
  /// publishing thread: when unbounded. A bounded subscription checks at
  /// publish, so that a duplicate never takes a slot.
  [[nodiscard]] bool screens_in_turn() const noexcept { return dedupe != nullptr && opts.capacity == 0; }
  /// `m`'s subject's counters: `known`, when the caller has them, or looked up.
  subject_counters& subject_of(const message& m, subject_counters* known = nullptr) const {
    return known != nullptr ? *known : subjects->at(envelope_of(m)->subject);
  }
  /// Counts one message handed to this subscription, per subscription and per subject.
  /// `tally`, when given, counts the subject's deliveries for the caller to add up once.
  void count_delivered(const message& m, publish_tally* tally, subject_counters* known = nullptr) {
    count(delivered, std::uint64_t{1}, counting);
    if (tally != nullptr) ++tally->handed;
    else subject_of(m, known).delivered.fetch_add(1, std::memory_order_relaxed);
  }
  /// Counts one message turned away: `by_sub` and `by_subject` name the reason.
  void count_drop(std::atomic<std::uint64_t>& by_sub, std::atomic<std::uint64_t> subject_counters::*by_subject,
                  const message& m, subject_counters* known = nullptr) {
    by_sub.fetch_add(1, std::memory_order_relaxed);
    (subject_of(m, known).*by_subject).fetch_add(1, std::memory_order_relaxed);
  }
  /// For a subscription that claims_slots() and has a window: nothing if
  /// `m`'s id is in it (counted a duplicate, full or not), else
  /// claim_slot()'s result. The id is remembered only with a slot, so a
  /// message the policy turns away is not, and its retry is no duplicate.
  std::optional<std::size_t> claim_unless_duplicate(const message& m) {
    std::optional<std::size_t> depth;
    {
      std::lock_guard lock{dedupe_mutex};
      const uuid& message_id = envelope_of(m)->id;
      const time_point now = timers->now();
      if (!dedupe->contains(message_id, now)) {
        depth = claim_slot();
        if (*depth != 0) (void)dedupe->insert(message_id, now);
      }
    }
    if (!depth) count_drop(duplicates, &subject_counters::duplicates, m);
    return depth;
  }
  /// Whether `m`'s id is in the window, recording nothing; counts a duplicate.
  bool in_window(const message& m) {
    bool seen;
    {
      std::lock_guard lock{dedupe_mutex};
      seen = dedupe->contains(envelope_of(m)->id, timers->now());
    }
    if (seen) count_drop(duplicates, &subject_counters::duplicates, m);
    return seen;
  }
  /// Whether `m`'s id is new to the window; counts a duplicate.
  bool screen(const message& m, subject_counters* known = nullptr) {
    bool fresh;
    {
      std::lock_guard lock{dedupe_mutex};
      fresh = dedupe->insert(envelope_of(m)->id, timers->now());
    }
    if (!fresh) count_drop(duplicates, &subject_counters::duplicates, m, known);
    return fresh;
  }
  void note_depth(std::size_t d) noexcept {
    auto m = max_depth.load(std::memory_order_relaxed);
    while (d > m && !max_depth.compare_exchange_weak(m, d, std::memory_order_relaxed)) {
    }
  }
};

/// The deliveries of one passed message, reported to the interceptor: a run
/// of plain ones (straight into mailboxes, all ok) in one call. Inert
/// without an interceptor.
class delivery_reports {
 public:
  delivery_reports(delivery_interceptor* to, const message_ptr& msg) noexcept : to_{to}, msg_{msg} {}
  delivery_reports(const delivery_reports&) = delete;
  delivery_reports& operator=(const delivery_reports&) = delete;
  ~delivery_reports() { flush(); }

  /// A plain delivery: starts a run, or joins the one open.
  void add_plain(const sub_state& s) noexcept {
    if (to_ == nullptr) return;
    if (open_) {
      ++also_;
      return;
    }
    first_ = {s.id, s.pattern, errc::ok};
    open_ = true;
  }
  void flush() {
    if (open_) {
      open_ = false;
      to_->delivered(msg_, first_, std::exchange(also_, 0));
    }
  }

 private:
  delivery_interceptor* to_;
  const message_ptr& msg_;
  bool open_ = false;
  std::size_t also_ = 0;
  delivery_interceptor::report first_{};
};

/// Tells a bounded subscription that its actor is done with one message;
/// for one whose window is checked in the subscriber's turn, checks it.
struct tracked_node final : mail_node {
  tracked_node(message* m, std::shared_ptr<sub_state> s) noexcept : mail_node{m}, sub{std::move(s)} {
    screens = sub->screens_in_turn();
  }
  bool accept() noexcept override {
    screened = true;
    if (!sub->screen(*msg(), counters)) return false;
    sub->count_delivered(*msg(), nullptr, counters);
    return true;
  }
  void prepare() noexcept override { sub->dedupe->prefetch(envelope_of(*msg())->id); }
  void done() noexcept override;
  std::shared_ptr<sub_state> sub;
  subject_counters* counters = nullptr;  // the subject's, when the publish knew them
  bool screened = false;
};

/// Where one subject's messages go, as a publishing thread last resolved it:
/// the subscriptions its subject matched, and the subject's counters. Built
/// once per thread, subject and router generation, then only read.
struct route {
  std::vector<std::shared_ptr<sub_state>> subs;
  subject_counters* counters = nullptr;
};
using route_ptr = std::shared_ptr<const route>;

/// One thread's routes for one bus, all resolved at router generation `generation`.
struct route_cache {
  std::uint64_t generation = 0;
  std::unordered_map<std::string, route_ptr, subject_hash, std::equal_to<>> entries;
  // The entry used last: a thread that publishes to one subject again and
  // again finds it with a compare, without hashing. Points into `entries`,
  // whose nodes stay put until they are cleared.
  const std::pair<const std::string, route_ptr>* last = nullptr;

  void clear() noexcept {
    entries.clear();
    last = nullptr;
  }
};

struct bus_core {
  explicit bus_core(system& s, bus_config c)
      : sys{s},
        counting{s.exec().confined() ? sharing::confined : sharing::shared},
        cfg{std::move(c)},
        subjects{std::make_shared<subject_table>(cfg.metrics_subjects)} {}
  system& sys;
  sharing counting;  // how publishes count: confined when only the system's one thread publishes
  bus_config cfg;
  courier::router routes;
  std::shared_ptr<subject_table> subjects;
  mutable std::shared_mutex subs_mutex;
  std::unordered_map<sub_id, std::shared_ptr<sub_state>> subs;
  codec_registry codecs;
  std::atomic<sub_id> next_id{1};
  std::atomic<std::uint64_t> published{0}, unroutable{0}, late_replies{0}, requests{0},
      request_timeouts{0};
  std::atomic<std::uint64_t> cancelled{0};  // requests whose awaiting coroutine was destroyed

  /// Most subjects a thread keeps routes for, per bus; the cache is cleared when full.
  static constexpr std::size_t max_cached_routes = 4096;
  per_thread_owner route_owner;  // keys each thread's route_cache

  /// `subject`'s route, from this thread's cache while no subscription came
  /// or went; errc::invalid_subject for a bad subject. On a hit a publish
  /// takes no lock and writes nothing other threads read.
  result<route_ptr> route_of(std::string_view subject) {
    // Read before resolving: a subscription change during the resolve leaves
    // the entry tagged with the older generation, so the next call redoes it.
    const std::uint64_t generation = routes.generation();
    route_cache& cache = per_thread<route_cache>(route_owner);
    if (cache.generation != generation) {
      cache.clear();
      cache.generation = generation;
    }
    if (cache.last != nullptr && cache.last->first == subject) return cache.last->second;
    if (auto it = cache.entries.find(subject); it != cache.entries.end()) {
      cache.last = &*it;
      return it->second;
    }
    auto matched = routes.match(subject);
    if (!matched) return matched.error();
    auto fresh = std::make_shared<route>();
    fresh->subs = lookup(*matched.value());
    fresh->counters = &subjects->at(subject);
    if (cache.entries.size() >= max_cached_routes) cache.clear();
    cache.last = &*cache.entries.emplace(subject, fresh).first;
    return route_ptr{std::move(fresh)};
  }

  std::vector<std::shared_ptr<sub_state>> lookup(const std::vector<sub_id>& ids) const {
    std::vector<std::shared_ptr<sub_state>> out;
    out.reserve(ids.size());
    std::shared_lock lock{subs_mutex};
    for (sub_id id : ids)
      if (auto it = subs.find(id); it != subs.end()) out.push_back(it->second);
    return out;
  }

  /// Publishes `msg` to its subscribers; what bus::publish() returns.
  errc publish(message_ptr msg);
  /// Publishes a bus_dead_letter of `msg` on `<prefix>.<msg's subject>`,
  /// as any message: queue groups, capacity and dedupe apply.
  void dead_letter(const message_ptr& msg, std::string_view reason);

  /// Whether the bus makes `msg`'s deliveries itself: there is no interceptor, or it passes `msg`.
  bool passes(const message_ptr& msg) const { return !cfg.intercept || cfg.intercept->passes(msg); }
  /// Every delivery starts here: a tap takes it, or the interceptor decides
  /// unless `passed` (see passes()), or admit() delivers it.
  /// `tally`, when given, counts the subject's deliveries for the caller to add up once.
  /// A passed delivery is reported on its own, after the run in `reports` before it.
  errc deliver(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally, bool passed,
               delivery_reports* reports = nullptr) {
    if (s->tap || !passed) {
      sys.exec().flush_burst();  // user code follows, which may wait
      if (s->tap) return s->tap(msg);
      return cfg.intercept->intercept(courier::delivery{s, s->id, msg, tally});
    }
    if (reports != nullptr) reports->flush();  // a run made before this one is reported first
    const errc outcome = admit(s, msg, tally);
    if (cfg.intercept) cfg.intercept->delivered(msg, {s->id, s->pattern, outcome}, 0);
    return outcome;
  }
  errc admit(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally = nullptr);
  /// admit() for a subscription that claims_slots(): a free slot, or its overflow policy.
  errc admit_bounded(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally);

  /// Puts `msg` in `s`'s mailbox and counts it. A bounded subscription's
  /// message goes through a tracked_node, to give its slot back; so does one
  /// whose window is checked in the subscriber's turn, which counts it then.
  static void hand_over(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally) {
    if (s->screens_in_turn()) {
      auto* node = new tracked_node(msg.get(), s);
      if (tally != nullptr) node->counters = tally->counters;
      s->target.send_node(node);
      return;
    }
    s->count_delivered(*msg, tally);
    if (s->opts.capacity != 0) s->target.send_node(new tracked_node(msg.get(), s));
    else if (tally != nullptr) tally->send(s->target, msg);
    else s->target.send_shared(msg);
  }
  /// drop_oldest: hands the oldest waiting message to the actor once its
  /// mailbox is empty. Static: a message may finish after the bus is gone.
  static void pump(const std::shared_ptr<sub_state>& s);

  /// Adds `s` to the subscriptions and the router; errc::invalid_subject for a bad pattern.
  errc enroll(const std::shared_ptr<sub_state>& s) {
    {
      std::unique_lock lock{subs_mutex};
      subs.emplace(s->id, s);
    }
    if (auto added = routes.add(s->pattern, s->id); !added) {
      std::unique_lock lock{subs_mutex};
      subs.erase(s->id);
      return added.error();
    }
    return errc::ok;
  }

  /// A request no local responder serves goes to the first tap that takes requests.
  void unserved(const std::vector<std::shared_ptr<sub_state>>& matched, const message_ptr& msg,
                const std::shared_ptr<request_base>& pending, duration timeout) {
    for (const auto& s : matched)
      if (s->on_request && s->active.load(std::memory_order_acquire)) {
        pending->timer = sys.timers().start_after(timeout, [pending] { pending->expire(errc::timeout, ""); });
        return s->on_request(msg, pending);
      }
    pending->expire(errc::no_responders, "");
  }
};

subscription_metrics metrics_of(sub_state& s) {
  auto n = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  subscription_metrics m;
  m.id = s.id;
  m.pattern = s.pattern;
  m.queue_group = s.opts.queue_group;
  m.delivered = n(s.delivered);
  m.duplicates = n(s.duplicates);
  m.dropped = drop_counts{n(s.dropped_newest), n(s.dropped_oldest), n(s.rejected), n(s.timed_out), n(s.dead_lettered)};
  m.max_depth = n(s.max_depth);
  std::lock_guard lock{s.mutex};
  m.depth = s.depth();
  return m;
}

void tracked_node::done() noexcept {
  // Handed over but never screened: the actor stopped first and the runtime dead-lettered it.
  if (screens && !screened) sub->count_delivered(*msg(), nullptr, counters);
  if (sub->opts.capacity == 0) return;
  if (sub->claims_slots()) return sub->release_slot();
  {
    std::lock_guard lock{sub->mutex};
    sub->in_mailbox.fetch_sub(1, std::memory_order_relaxed);
  }
  bus_core::pump(sub);
}

void bus_core::pump(const std::shared_ptr<sub_state>& s) {
  message_ptr next;
  {
    std::lock_guard lock{s->mutex};
    if (s->waiting.empty() || s->in_mailbox.load(std::memory_order_relaxed) != 0) return;
    next = std::move(s->waiting.front());
    s->waiting.pop_front();
    s->in_mailbox.fetch_add(1, std::memory_order_relaxed);
  }
  // If the actor has stopped this dead-letters at once and its done() pumps
  // the next one: recursion bounded by the subscription's capacity.
  hand_over(s, next, nullptr);
}

errc bus_core::admit(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally) {
  if (s->opts.capacity == 0) {
    hand_over(s, msg, tally);
    return errc::ok;
  }
  if (s->claims_slots()) return admit_bounded(s, msg, tally);
  // drop_oldest: one message in the mailbox, the rest waiting where the oldest can still go.
  std::unique_lock lock{s->mutex};
  const bool full = s->depth() >= s->opts.capacity;
  if (full && s->waiting.empty()) {  // the only queued message is already in the mailbox: the new one goes
    // A duplicate counts as one; a drop is not remembered, so its retry is no duplicate.
    if (s->dedupe == nullptr || !s->in_window(*msg)) s->count_drop(s->dropped_oldest, &subject_counters::oldest, *msg);
    return errc::ok;
  }
  if (s->dedupe != nullptr && !s->screen(*msg)) return errc::ok;  // counted a duplicate
  if (full) {
    s->count_drop(s->dropped_oldest, &subject_counters::oldest, *s->waiting.front());
    s->waiting.pop_front();
  }
  if (s->in_mailbox.load(std::memory_order_relaxed) == 0 && s->waiting.empty()) {
    s->in_mailbox.fetch_add(1, std::memory_order_relaxed);
    s->note_depth(s->depth());
    lock.unlock();
    hand_over(s, msg, tally);
    return errc::ok;
  }
  s->waiting.push_back(msg);
  s->note_depth(s->depth());
  return errc::ok;
}

errc bus_core::admit_bounded(const std::shared_ptr<sub_state>& s, const message_ptr& msg, publish_tally* tally) {
  std::optional<std::chrono::steady_clock::time_point> deadline;  // read once, on the first wait
  for (;;) {
    std::size_t depth = 0;
    if (s->dedupe == nullptr) {
      depth = s->claim_slot();
    } else if (auto claimed = s->claim_unless_duplicate(*msg)) {
      depth = *claimed;
    } else {
      return errc::ok;  // counted a duplicate
    }
    if (depth != 0) {
      s->note_depth(depth);
      hand_over(s, msg, tally);
      return errc::ok;
    }
    switch (s->opts.policy) {
      case overflow::block:
        if (!deadline) {
          deadline = std::chrono::steady_clock::now() + s->opts.block_timeout;
          // The consumer that frees a slot may be held back by this thread:
          // in its burst, or queued to run next on this worker.
          sys.exec().prepare_to_block();
        }
        if (s->wait_for_slot(*deadline)) continue;
        s->count_drop(s->timed_out, &subject_counters::timed_out, *msg);
        return errc::timeout;
      case overflow::drop_newest:
        s->count_drop(s->dropped_newest, &subject_counters::newest, *msg);
        return errc::ok;
      case overflow::reject:
        s->count_drop(s->rejected, &subject_counters::rejected, *msg);
        return errc::mailbox_full;
      case overflow::dead_letter:
        s->count_drop(s->dead_lettered, &subject_counters::dead_lettered, *msg);
        dead_letter(msg, "overflow");
        return errc::ok;
      case overflow::drop_oldest:  // never claims slots
        return errc::ok;
    }
  }
}

void request_base::reply(message_ptr response) noexcept {
  if (!claim()) {
    core->late_replies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  timers->cancel(timer);
  if (response->type() != expects) {  // a failure, not a reply: no latency to record
    if (subject != nullptr) subject->request_failures.fetch_add(1, std::memory_order_relaxed);
    return complete_error(errc::handler_failed, "reply has the wrong type");
  }
  if (subject != nullptr)
    subject->record_latency(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(timers->now() - sent_at).count()));
  complete_value(*response);
}

void request_base::fail(const char* what) noexcept {
  if (!claim()) return;
  timers->cancel(timer);
  if (subject != nullptr) subject->request_failures.fetch_add(1, std::memory_order_relaxed);
  complete_error(errc::handler_failed, what);
}

void request_base::expire(errc why, const char* text) noexcept {
  if (!claim()) return;
  if (why == errc::timeout)
    core->request_timeouts.fetch_add(1, std::memory_order_relaxed);
  else
    timers->cancel(timer);  // failed before its deadline: the timer need not wait for it (inert if none started)
  if (subject != nullptr) {
    auto& counter = why == errc::timeout         ? subject->request_timeouts
                    : why == errc::no_responders ? subject->no_responders
                                                 : subject->request_failures;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  complete_error(why, text);
}

void request_base::abandon() noexcept {
  core->cancelled.fetch_add(1, std::memory_order_relaxed);
  if (claim()) timers->cancel(timer);  // else it completed already; the outcome is dropped
}

}  // namespace detail

std::shared_ptr<delivery_interceptor> intercept_each(std::function<errc(const delivery&)> decide) {
  struct each final : delivery_interceptor {
    explicit each(std::function<errc(const delivery&)> f) : fn{std::move(f)} {}
    errc intercept(const delivery& d) override { return fn(d); }
    std::function<errc(const delivery&)> fn;
  };
  return std::make_shared<each>(std::move(decide));
}

std::string_view delivery::pattern() const noexcept { return (*sub_)->pattern; }
errc delivery::deliver() const noexcept {
  const auto& s = *sub_;
  if (!s->active.load(std::memory_order_acquire)) return errc::cancelled;
  return s->core->admit(s, *msg_, tally_);
}

bus::bus(system& sys, bus_config cfg) : sys_{sys}, core_{std::make_shared<detail::bus_core>(sys, std::move(cfg))} {}

bus::~bus() {
  std::unique_lock lock{core_->subs_mutex};
  for (auto& [id, s] : core_->subs) s->active.store(false, std::memory_order_release);
}

void bus::stamp(envelope& env, std::string_view subject, std::string_view type_name, publish_options&& opts) {
  env.id = opts.id ? *opts.id : uuid::v7();
  env.subject.append(subject);  // empty until now: an append skips assign()'s overlap handling
  env.type_name = type_name;
  env.timestamp = sys_.timers().now();
  if (opts.ttl) env.deadline = env.timestamp + *opts.ttl;
  env.key = std::move(opts.key);
  env.headers = std::move(opts.headers);
  env.correlation_id = env.id;
  if (const message* cur = current_message(); cur != nullptr && cur->meta() != nullptr) {
    const envelope* parent = envelope_of(*cur);
    env.causation_id = parent->id;
    env.correlation_id = parent->correlation_id.nil() ? parent->id : parent->correlation_id;
    env.traceparent = parent->traceparent;
  }
}

result<subscription> bus::subscribe_erased(std::string_view pattern, type_id type, const actor_ref& target,
                                           subscribe_options opts, bool responder, bool owns_target) {
  if (!target) return errc::invalid_subject;
  auto s = std::make_shared<detail::sub_state>();
  s->id = core_->next_id.fetch_add(1, std::memory_order_relaxed);
  s->pattern = pattern;
  s->type = type;
  s->target = target;
  s->responder = responder;
  s->owns_target = owns_target;
  s->core = core_.get();
  s->counting = core_->counting;
  s->timers = &sys_.timers();
  s->subjects = core_->subjects;
  if (opts.dedupe) s->dedupe = opts.dedupe.get();
  else if (opts.dedupe_window > 0) {
    if (opts.dedupe_window <= flat_dedupe_store::max_window)
      s->own_dedupe = std::make_unique<flat_dedupe_store>(opts.dedupe_window, opts.dedupe_max_age);
    else
      s->own_dedupe = std::make_unique<window_dedupe_store>(opts.dedupe_window, opts.dedupe_max_age);
    s->dedupe = s->own_dedupe.get();
  }
  s->opts = std::move(opts);
  s->plain = s->opts.capacity == 0 && s->opts.queue_group.empty();
  if (errc e = core_->enroll(s); e != errc::ok) {
    if (owns_target) target.stop();
    return e;
  }
  return subscription{core_, std::move(s)};
}

namespace detail {

errc bus_core::publish(message_ptr msg) {
  const envelope* env = envelope_of(*msg);
  auto found = route_of(env->subject);
  if (!found) return found.error();
  // Held for the whole publish: a handler on this thread may subscribe, which clears the cache.
  const route_ptr route = std::move(found).value();
  count(published, std::uint64_t{1}, counting);
  subject_counters& counters = *route->counters;
  count(counters.published, std::uint64_t{1}, counting);
  publish_tally tally;
  tally.counters = &counters;
  tally.fanout = static_cast<std::uint32_t>(route->subs.size());
  tally.shares = counting;
  const auto& matched = route->subs;
  errc outcome = errc::ok;
  std::size_t delivered = 0;
  std::vector<const std::string*> groups_done;
  const bool passed = passes(msg);
  // An interceptor that let the message pass still hears of each delivery.
  delivery_interceptor* const watcher = passed ? cfg.intercept.get() : nullptr;
  delivery_reports reports{watcher, msg};
  plain_burst burst{sys.exec()};
  const bool bursts = watcher == nullptr && matched.size() > 1;
  for (std::size_t i = 0; i < matched.size(); ++i) {
    auto& s = matched[i];
    if (!s->active.load(std::memory_order_acquire)) continue;
    if (s->type != msg->type() && !s->tap) continue;
    if (s->plain && passed) {  // what deliver() would do, without its checks
      if (bursts) burst.open();
      hand_over(s, msg, &tally);
      reports.add_plain(*s);
      ++delivered;
      continue;
    }
    burst.close();
    if (!s->opts.queue_group.empty()) {
      const std::string& g = s->opts.queue_group;
      if (std::any_of(groups_done.begin(), groups_done.end(), [&](auto* d) { return *d == g; })) continue;
      groups_done.push_back(&g);
      std::vector<const std::shared_ptr<sub_state>*> members;
      for (std::size_t j = i; j < matched.size(); ++j)
        if (matched[j]->opts.queue_group == g && matched[j]->type == msg->type() &&
            matched[j]->active.load(std::memory_order_acquire))
          members.push_back(&matched[j]);
      std::size_t pick = env->key.empty() ? s->rr.fetch_add(1, std::memory_order_relaxed)
                                          : std::hash<std::string>{}(env->key);
      if (errc e = deliver(*members[pick % members.size()], msg, &tally, passed, &reports); e != errc::ok)
        outcome = e;
      ++delivered;
      continue;
    }
    if (errc e = deliver(s, msg, &tally, passed, &reports); e != errc::ok) outcome = e;
    ++delivered;
  }
  if (tally.handed != 0) count(counters.delivered, tally.handed, counting);
  if (delivered == 0) {
    unroutable.fetch_add(1, std::memory_order_relaxed);
    counters.unroutable.fetch_add(1, std::memory_order_relaxed);
    if (cfg.dead_letter_unroutable) dead_letter(msg, "unroutable");
  }
  return outcome;
}

void bus_core::dead_letter(const message_ptr& msg, std::string_view reason) {
  // A dead letter is not dead-lettered again: one that a subscription's
  // policy turns away, or that nobody takes, is counted there and goes no further.
  if (msg->type() == type_id_of<bus_dead_letter>()) return;
  const envelope* env = envelope_of(*msg);
  const std::string original = env != nullptr ? env->subject : "unknown";
  std::string subject = cfg.dead_letter_prefix + "." + original;
  // Past the subject limits the prefix would push it over: the payload still names it.
  if (validate_subject(subject) != errc::ok) subject = cfg.dead_letter_prefix + "._overlong";
  auto matched = routes.match(subject);
  if (!matched || matched.value()->empty()) return;  // nobody listens; already counted by the caller
  auto* dl = new bus_message<bus_dead_letter>(envelope{}, bus_dead_letter{msg, original, std::string{reason}});
  envelope& e = dl->env();
  e.id = uuid::v7();
  e.subject = std::move(subject);
  e.timestamp = sys.timers().now();
  if (env != nullptr) {
    e.causation_id = env->id;
    e.correlation_id = env->correlation_id.nil() ? env->id : env->correlation_id;
  }
  e.headers.emplace_back("reason", std::string{reason});
  (void)publish(message_ptr::adopt(dl));
}

}  // namespace detail

errc bus::publish_erased(message_ptr msg) { return core_->publish(std::move(msg)); }

void bus::send_request(message_ptr msg, envelope& env, std::shared_ptr<detail::request_base> pending,
                       duration timeout) {
  pending->core = core_.get();
  pending->timers = &sys_.timers();
  env.replies = pending.get();
  env.reply_owner = pending;
  env.reply_to = "_INBOX." + env.id.to_string();
  env.deadline = env.timestamp + timeout;
  auto found = core_->route_of(env.subject);
  if (!found) return pending->expire(found.error(), "invalid subject");  // not a request: counted nowhere
  core_->requests.fetch_add(1, std::memory_order_relaxed);
  const detail::route_ptr route = std::move(found).value();
  pending->subject = route->counters;
  pending->subject->requests.fetch_add(1, std::memory_order_relaxed);
  pending->sent_at = env.timestamp;
  std::shared_ptr<detail::sub_state> responder;
  std::size_t candidates = 0;
  const auto& subs = route->subs;
  for (auto& s : subs)
    if (s->responder && s->type == msg->type() && s->active.load(std::memory_order_acquire)) ++candidates;
  if (candidates == 0) return core_->unserved(subs, msg, pending, timeout);
  std::size_t pick = core_->requests.load(std::memory_order_relaxed) % candidates;
  for (auto& s : subs)
    if (s->responder && s->type == msg->type() && s->active.load(std::memory_order_acquire))
      if (pick-- == 0) responder = s;
  // The timer owns the request until it fires or a reply cancels it, so a
  // responder that drops the request still leads to a timeout.
  pending->timer = sys_.timers().start_after(timeout, [pending] { pending->expire(errc::timeout, ""); });
  if (errc e = core_->deliver(responder, msg, nullptr, core_->passes(msg)); e != errc::ok) pending->expire(e, "");
}

bus_stats bus::stats() const noexcept {
  return bus_stats{core_->published.load(), core_->unroutable.load(), core_->late_replies.load(),
                   core_->requests.load(), core_->request_timeouts.load(), core_->cancelled.load()};
}

bus_metrics bus::metrics() const {
  const bus_stats totals = stats();
  bus_metrics m;
  m.published = totals.published;
  m.unroutable = totals.unroutable;
  m.requests = totals.requests;
  m.request_timeouts = totals.request_timeouts;
  m.late_replies = totals.late_replies;
  m.subjects = core_->subjects->snapshot();
  for (const auto& s : m.subjects) m.request_latency_ns.merge(s.request_latency_ns);
  std::vector<std::shared_ptr<detail::sub_state>> subs;
  {
    std::shared_lock lock{core_->subs_mutex};
    for (const auto& [id, s] : core_->subs) subs.push_back(s);
  }
  for (const auto& s : subs) m.subscriptions.push_back(detail::metrics_of(*s));
  std::sort(m.subscriptions.begin(), m.subscriptions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return m;
}

void subscription::unsubscribe() noexcept {
  if (!state_) return;
  state_->active.store(false, std::memory_order_release);
  core_->routes.remove(state_->pattern, state_->id);
  {
    std::unique_lock lock{core_->subs_mutex};
    core_->subs.erase(state_->id);
  }
  if (state_->owns_target) state_->target.stop();
  state_.reset();
  core_.reset();
}

std::uint64_t subscription::id() const noexcept { return state_ ? state_->id : 0; }

subscription_stats subscription::stats() const noexcept {
  if (!state_) return {};
  const auto& s = *state_;
  return subscription_stats{s.delivered.load(), s.duplicates.load(),
                            s.dropped_newest.load() + s.dropped_oldest.load(), s.rejected.load(),
                            s.timed_out.load(), s.dead_lettered.load(), s.max_depth.load()};
}

codec_registry& bus::codecs() const noexcept { return core_->codecs; }

void bus::dead_letter(const message_ptr& msg, std::string_view reason) { core_->dead_letter(msg, reason); }

errc bus::request_message(const message_ptr& msg) {
  auto found = core_->route_of(envelope_of(*msg)->subject);
  if (!found) return found.error();
  const detail::route_ptr route = std::move(found).value();
  std::vector<std::shared_ptr<detail::sub_state>> responders;
  for (const auto& s : route->subs)
    if (s->responder && s->type == msg->type() && s->active.load(std::memory_order_acquire))
      responders.push_back(s);
  if (responders.empty()) return errc::no_responders;
  auto pick = core_->requests.fetch_add(1, std::memory_order_relaxed) % responders.size();
  return core_->deliver(responders[pick], msg, nullptr, core_->passes(msg));
}

result<subscription> bus::tap(std::string_view pattern, tap_fn fn, request_tap_fn on_request) {
  if (!fn) return errc::invalid_subject;
  auto s = std::make_shared<detail::sub_state>();
  s->id = core_->next_id.fetch_add(1, std::memory_order_relaxed);
  s->pattern = pattern;
  s->core = core_.get();
  s->tap = std::move(fn);
  s->on_request = std::move(on_request);
  if (errc e = core_->enroll(s); e != errc::ok) return e;
  return subscription{core_, std::move(s)};
}

}  // namespace courier
