#include "courier/runtime/thread_pool.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <concurrentqueue.h>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "courier/runtime/work_stealing_deque.hpp"

namespace courier {
namespace {

// Every so many turns a worker runs its oldest local item, and then the
// injection queue's, before its LIFO slot, so a pair of actors bouncing
// through the slot cannot starve older work.
constexpr unsigned local_fairness_tick = 31;
constexpr unsigned global_fairness_tick = 61;
// At most this many injected runnables move to a worker at a time.
constexpr std::size_t injected_batch = 32;
// At most this many runnables wait in an outside thread's burst; more are
// handed over in several enqueues.
constexpr std::size_t burst_capacity = 128;

struct xorshift {
  std::uint64_t s;
  std::uint64_t next() noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

}  // namespace

struct thread_pool::impl {
  struct alignas(64) worker {
    work_stealing_deque<runnable*> deque;
    runnable* lifo = nullptr;  // owner-only: not stealable
    std::uint64_t tick = 0;
    xorshift rng{1};
    std::atomic<std::uint32_t> wake{0};  // futex word: 1 once a waker picked us
    std::atomic<std::uint64_t> parks{0};
    std::atomic<std::uint64_t> steals{0};
    std::thread thread;
  };

  explicit impl(config cfg) {
    unsigned n = cfg.workers ? cfg.workers : std::max(1u, std::thread::hardware_concurrency());
    workers.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<worker>());
      workers.back()->rng.s = cfg.seed * 0x9e3779b97f4a7c15ULL + i + 1;
    }
    for (unsigned i = 0; i < n; ++i) workers[i]->thread = std::thread([this, i] { loop(i); });
  }

  std::vector<std::unique_ptr<worker>> workers;
  moodycamel::ConcurrentQueue<runnable*> injector;
  std::atomic<std::int64_t> injected{0};  // exact count, unlike size_approx()
  std::atomic<unsigned> sleepers{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> closed{false};  // workers joined: schedule() runs work inline
  std::once_flag stopped;

  std::mutex idle_mutex;                 // guards idle_list and idle_cv waits
  std::vector<unsigned> idle_list;       // parked workers, most recent last
  std::condition_variable all_idle_cv;   // wait_idle() sleeps here

  /// The calling thread's bursts (thread_pool::begin_burst()). Only one pool
  /// holds runnables back at a time: a burst of another pool opened inside
  /// one of this pool's is counted and otherwise ignored.
  struct burst_state {
    impl* pool = nullptr;  // whose burst is open, if any
    unsigned depth = 0;    // of `pool`'s bursts
    unsigned foreign = 0;  // other pools' bursts opened inside them
    bool woken_owed = false;  // a worker queued locally without waking a sleeper
    std::size_t held = 0;
    std::array<runnable*, burst_capacity> runnables{};
  };

  static thread_local worker* tls_worker;
  static thread_local impl* tls_pool;
  static thread_local burst_state tls_burst;

  worker* local() const noexcept { return tls_pool == this ? tls_worker : nullptr; }

  /// Puts `n` runnables in the injection queue, in one enqueue.
  void inject(runnable* const* rs, std::size_t n) noexcept {
    // Enqueuing fails only for lack of memory.
    (void)(n == 1 ? injector.enqueue(*rs) : injector.enqueue_bulk(rs, n));
    // release: the count is only raised after the items are in the queue.
    injected.fetch_add(static_cast<std::int64_t>(n), std::memory_order_release);
  }

  /// Takes a share of the injected runnables, at most `most`: runs the first
  /// and keeps the rest in `w`'s deque, where idle workers can steal them.
  /// Taking several at a time spares the shared queue and its count one
  /// visit per runnable when an outside thread schedules many (a bus
  /// fan-out). A sleeper is woken while any are left, here or in the queue,
  /// so that one wake-up for a burst spreads to as many workers as it needs.
  runnable* take_injected(worker& w, std::size_t most = injected_batch) noexcept {
    const std::int64_t waiting = injected.load(std::memory_order_acquire);
    if (waiting <= 0) return nullptr;
    std::array<runnable*, injected_batch> batch;
    const std::size_t share = std::min({static_cast<std::size_t>(waiting) / workers.size() + 1, most, batch.size()});
    // The bulk dequeue costs more than a single one when there is one to take.
    const std::size_t n = share == 1 ? static_cast<std::size_t>(injector.try_dequeue(batch[0]))
                                     : injector.try_dequeue_bulk(batch.data(), share);
    if (n == 0) return nullptr;
    injected.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
    // Newest first, so that this worker pops them in the order they came.
    for (std::size_t i = n - 1; i > 0; --i) w.deque.push(batch[i]);
    if (n > 1 || waiting > 1) notify_if_sleeping();
    return batch[0];
  }

  void push_local(worker& w, runnable* r) {
    w.deque.push(r);
    if (burst_state& b = tls_burst; b.pool == this) b.woken_owed = true;  // wakes once, at the burst's end
    else notify_if_sleeping();
  }

  /// Holds `r` in the calling thread's burst; false if no burst of this pool is open.
  bool hold(runnable* r) noexcept {
    burst_state& b = tls_burst;
    if (b.pool != this) return false;
    b.runnables[b.held++] = r;
    if (b.held == b.runnables.size()) hand_over(b);
    return true;
  }

  /// Injects what `b` holds in one bulk enqueue and wakes a sleeper once.
  void hand_over(burst_state& b) noexcept {
    const bool queued_locally = std::exchange(b.woken_owed, false);
    if (b.held == 0 && !queued_locally) return;
    if (b.held != 0) inject(b.runnables.data(), std::exchange(b.held, 0));
    notify_if_sleeping();
    run_if_closed();
  }

  void notify_if_sleeping() noexcept {
    // seq_cst: the work just queued must be visible before we read sleepers;
    // pairs with the fence in park() (Dekker: one side sees the other).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_relaxed) > 0) wake_one();
  }

  void wake_one() noexcept {
    unsigned idx;
    {
      std::lock_guard lock{idle_mutex};
      if (idle_list.empty()) return;
      idx = idle_list.back();
      idle_list.pop_back();
      sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
    worker& w = *workers[idx];
    // release: pairs with the acquire in park(); the woken worker then sees the work.
    w.wake.store(1, std::memory_order_release);
    w.wake.notify_one();
  }

  bool work_visible() const noexcept {
    if (injected.load(std::memory_order_acquire) > 0) return true;
    for (const auto& w : workers)
      if (!w->deque.empty()) return true;
    return false;
  }

  runnable* steal(worker& w) noexcept {
    const std::size_t n = workers.size();
    if (n > 1) {
      std::size_t start = w.rng.next() % n;
      for (std::size_t k = 0; k < n; ++k) {
        worker& victim = *workers[(start + k) % n];
        if (&victim == &w) continue;
        if (auto r = victim.deque.steal()) {
          w.steals.fetch_add(1, std::memory_order_relaxed);
          // Pass the wake-up on while work is left: a burst woke one worker for all of it.
          if (!victim.deque.empty() || injected.load(std::memory_order_relaxed) > 0) notify_if_sleeping();
          return *r;
        }
      }
    }
    return take_injected(w);
  }

  runnable* next(worker& w) noexcept {
    ++w.tick;
    if (w.tick % global_fairness_tick == 0)
      if (runnable* r = take_injected(w, 1)) return r;  // one: a share would jump ahead of older local work
    if (w.tick % local_fairness_tick == 0)
      if (auto r = w.deque.steal()) return *r;  // the oldest local item
    if (w.lifo != nullptr) return std::exchange(w.lifo, nullptr);
    if (auto r = w.deque.pop()) return *r;
    return steal(w);
  }

  /// Sleeps until woken. Returns false when the pool is stopping and idle.
  bool park(unsigned idx) {
    worker& w = *workers[idx];
    {
      std::lock_guard lock{idle_mutex};
      w.wake.store(0, std::memory_order_relaxed);
      idle_list.push_back(idx);
      if (sleepers.fetch_add(1, std::memory_order_relaxed) + 1 == workers.size())
        all_idle_cv.notify_all();
    }
    // seq_cst: announce sleeping before re-checking for work; pairs with
    // notify_if_sleeping()'s fence so a concurrent submit cannot be missed.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (work_visible() || stopping.load(std::memory_order_acquire)) {
      if (unpark_self(idx)) return !stopping.load(std::memory_order_acquire) || work_visible();
    }
    w.parks.fetch_add(1, std::memory_order_relaxed);
    // acquire: pairs with the waker's release store.
    while (w.wake.load(std::memory_order_acquire) == 0) w.wake.wait(0, std::memory_order_acquire);
    return !stopping.load(std::memory_order_acquire) || work_visible();
  }

  /// Takes this worker off the idle list; false if a waker already did.
  bool unpark_self(unsigned idx) {
    std::lock_guard lock{idle_mutex};
    auto it = std::find(idle_list.begin(), idle_list.end(), idx);
    if (it == idle_list.end()) return false;  // a wake is in flight; wait for it
    idle_list.erase(it);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }

  void loop(unsigned idx) {
    worker& w = *workers[idx];
    tls_worker = &w;
    tls_pool = this;
    for (;;) {
      if (runnable* r = next(w)) {
        r->run();
        continue;
      }
      if (!park(idx)) break;
    }
    tls_worker = nullptr;
    tls_pool = nullptr;
  }

  void stop_all() noexcept {
    std::call_once(stopped, [this] { stop_and_join(); });
  }

  void stop_and_join() noexcept {
    // A burst of this pool open on the stopping thread: what it holds goes
    // in now, and the burst's end will find no pool to hand over to.
    if (burst_state& b = tls_burst; b.pool == this) {
      hand_over(b);
      b = burst_state{};
    }
    stopping.store(true, std::memory_order_release);
    for (;;) {
      {
        std::lock_guard lock{idle_mutex};
        if (idle_list.empty()) break;
      }
      wake_one();
    }
    for (auto& w : workers)
      if (w->thread.joinable()) w->thread.join();
    // seq_cst: pairs with run_if_closed(); a submit that raced the last
    // worker's exit is either seen here or sees `closed` and runs it itself.
    closed.store(true, std::memory_order_seq_cst);
    drain_inline();
  }

  void drain_inline() noexcept {
    runnable* r = nullptr;
    while (injector.try_dequeue(r)) {
      injected.fetch_sub(1, std::memory_order_relaxed);
      r->run();
    }
  }

  /// After shutdown nobody is left to run submitted work, so the submitter does.
  void run_if_closed() noexcept {
    // seq_cst: the other half of the handshake in stop_and_join().
    if (closed.load(std::memory_order_seq_cst)) drain_inline();
  }
};

thread_local thread_pool::impl::worker* thread_pool::impl::tls_worker = nullptr;
thread_local thread_pool::impl* thread_pool::impl::tls_pool = nullptr;
// constinit: a constant initialiser, so that reaching it costs no guard check.
constinit thread_local thread_pool::impl::burst_state thread_pool::impl::tls_burst{};

thread_pool::thread_pool(config cfg) : impl_{std::make_unique<impl>(cfg)} {}

thread_pool::~thread_pool() { shutdown(); }

void thread_pool::schedule(runnable* r) noexcept {
  impl& p = *impl_;
  if (auto* w = p.local()) {
    runnable* displaced = std::exchange(w->lifo, r);
    if (displaced != nullptr) p.push_local(*w, displaced);
    return;
  }
  if (p.hold(r)) return;
  p.inject(&r, 1);
  p.notify_if_sleeping();
  p.run_if_closed();
}

void thread_pool::begin_burst() noexcept {
  impl::burst_state& b = impl::tls_burst;
  if (b.pool == nullptr) b.pool = impl_.get();
  if (b.pool == impl_.get()) ++b.depth;
  else ++b.foreign;
}

void thread_pool::end_burst() noexcept {
  impl::burst_state& b = impl::tls_burst;
  if (b.pool != impl_.get()) {
    if (b.foreign != 0) --b.foreign;  // zero: the pool was shut down inside its burst
    return;
  }
  if (--b.depth != 0) return;
  b.pool = nullptr;  // first: what hand_over() runs inline may schedule again
  impl_->hand_over(b);
}

void thread_pool::flush_burst() noexcept {
  if (impl::burst_state& b = impl::tls_burst; b.pool == impl_.get()) impl_->hand_over(b);
}

void thread_pool::prepare_to_block() noexcept {
  flush_burst();
  impl& p = *impl_;
  impl::worker* w = p.local();
  if (w == nullptr || w->lifo == nullptr) return;
  // Not push_local(): inside a burst it would owe the wake-up until the
  // burst ends, and this thread is about to block before then.
  w->deque.push(std::exchange(w->lifo, nullptr));
  p.notify_if_sleeping();
}

void thread_pool::yield(runnable* r) noexcept {
  impl& p = *impl_;
  p.inject(&r, 1);
  // A worker yielding will look at the injector before it parks; only a
  // yield from outside the pool needs to wake someone.
  if (p.local() == nullptr) p.notify_if_sleeping();
  p.run_if_closed();
}

bool thread_pool::wait_idle(std::chrono::steady_clock::time_point deadline) {
  impl& p = *impl_;
  std::unique_lock lock{p.idle_mutex};
  return p.all_idle_cv.wait_until(lock, deadline, [&] {
    return p.sleepers.load(std::memory_order_relaxed) == p.workers.size() &&
           p.injected.load(std::memory_order_acquire) == 0;
  });
}

void thread_pool::shutdown() noexcept {
  impl_->stop_all();
}

unsigned thread_pool::concurrency() const noexcept {
  return static_cast<unsigned>(impl_->workers.size());
}

thread_pool::stats thread_pool::statistics() const noexcept {
  stats s;
  for (const auto& w : impl_->workers) {
    s.parks += w->parks.load(std::memory_order_relaxed);
    s.steals += w->steals.load(std::memory_order_relaxed);
  }
  return s;
}

unsigned thread_pool::parked() const noexcept {
  return impl_->sleepers.load(std::memory_order_relaxed);
}

int thread_pool::current_worker() const noexcept {
  auto* w = impl_->local();
  if (w == nullptr) return -1;
  for (std::size_t i = 0; i < impl_->workers.size(); ++i)
    if (impl_->workers[i].get() == w) return static_cast<int>(i);
  return -1;
}

}  // namespace courier
