#include "courier/runtime/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <concurrentqueue.h>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "courier/runtime/work_stealing_deque.hpp"

namespace courier {
namespace {

// Every so many turns a worker runs its oldest local item, and then the
// injection queue's, before its LIFO slot, so a pair of actors bouncing
// through the slot cannot starve older work.
constexpr unsigned local_fairness_tick = 31;
constexpr unsigned global_fairness_tick = 61;

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

  static thread_local worker* tls_worker;
  static thread_local impl* tls_pool;

  worker* local() const noexcept { return tls_pool == this ? tls_worker : nullptr; }

  void inject(runnable* r) noexcept {
    injector.enqueue(r);
    // release: the count is only raised after the item is in the queue.
    injected.fetch_add(1, std::memory_order_release);
  }

  runnable* take_injected() noexcept {
    runnable* r = nullptr;
    if (injected.load(std::memory_order_acquire) <= 0 || !injector.try_dequeue(r)) return nullptr;
    injected.fetch_sub(1, std::memory_order_relaxed);
    return r;
  }

  void push_local(worker& w, runnable* r) {
    w.deque.push(r);
    notify_if_sleeping();
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
          return *r;
        }
      }
    }
    return take_injected();
  }

  runnable* next(worker& w) noexcept {
    ++w.tick;
    if (w.tick % global_fairness_tick == 0)
      if (runnable* r = take_injected()) return r;
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

thread_pool::thread_pool(config cfg) : impl_{std::make_unique<impl>(cfg)} {}

thread_pool::~thread_pool() { shutdown(); }

void thread_pool::schedule(runnable* r) noexcept {
  impl& p = *impl_;
  if (auto* w = p.local()) {
    runnable* displaced = std::exchange(w->lifo, r);
    if (displaced != nullptr) p.push_local(*w, displaced);
    return;
  }
  p.inject(r);
  p.notify_if_sleeping();
  p.run_if_closed();
}

void thread_pool::yield(runnable* r) noexcept {
  impl& p = *impl_;
  p.inject(r);
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
