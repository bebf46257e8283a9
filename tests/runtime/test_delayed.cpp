// send_after and send_periodic: delivered at their deadlines on virtual
// time, periodic sends without drift, cancellation, and real time on a pool.
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <courier/runtime.hpp>
#include <courier/runtime/delayed.hpp>

#include "runtime/test_support.hpp"

namespace {

using namespace courier;
using namespace std::chrono_literals;

struct tick {
  int n;
};

/// Records the virtual time at which each tick arrived.
class recorder : public actor {
 public:
  using handles = courier::handles<tick>;
  recorder(const courier::clock& c, std::vector<std::pair<int, time_point>>& seen) : clock_{c}, seen_{seen} {}
  void on(const tick& t) { seen_.emplace_back(t.n, clock_.now()); }

 private:
  const courier::clock& clock_;
  std::vector<std::pair<int, time_point>>& seen_;
};

/// A system on the deterministic executor and virtual time.
struct virtual_world {
  manual_executor exec{{.seed = 3}};
  virtual_clock clk;
  virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  std::vector<std::pair<int, time_point>> seen;
  actor_ref to = sys.spawn<recorder>(clk, seen);

  /// Advances virtual time by `d`, running what becomes ready at each deadline.
  void advance(duration d) {
    const time_point end = clk.now() + d;
    exec.run();
    while (true) {
      auto next = timers.next_deadline();
      if (!next || *next > end) break;
      timers.advance_to_next();
      exec.run();
    }
    timers.advance(end - clk.now());
    exec.run();
  }
};

}  // namespace

TEST_CASE("send_after delivers at its deadline and not a nanosecond before") {
  virtual_world w;
  const time_point start = w.clk.now();
  send_after(w.timers, w.to, 250ms, tick{1});
  send_after(w.timers, w.to, 100ms, tick{2});
  w.advance(100ms - 1ns);
  CHECK(w.seen.empty());
  w.advance(1ns);
  REQUIRE(w.seen.size() == 1);
  CHECK(w.seen[0] == std::pair{2, start + 100ms});
  w.advance(1s);
  REQUIRE(w.seen.size() == 2);
  CHECK(w.seen[1] == std::pair{1, start + 250ms});
}

TEST_CASE("send_periodic does not drift: 10^4 periods give exactly 10^4 sends, each on start + k*period") {
  virtual_world w;
  const time_point start = w.clk.now();
  constexpr duration period = 7ms + 13us;  // not a multiple of the wheel's tick
  auto h = send_periodic(w.timers, w.to, period, tick{0});
  // Advance in uneven steps, so no step lines up with the period.
  for (int i = 0; i < 10'000; ++i) w.advance(i % 2 == 0 ? period - 3us : period + 3us);
  REQUIRE(w.seen.size() == 10'000);
  for (std::size_t k = 0; k < w.seen.size(); ++k) {
    INFO("send " << k);
    REQUIRE(w.seen[k].second == start + static_cast<std::int64_t>(k + 1) * period);
  }
}

TEST_CASE("a cancelled or destroyed periodic handle sends no more") {
  virtual_world w;
  auto kept = send_periodic(w.timers, w.to, 10ms, tick{1});
  {
    auto dropped = send_periodic(w.timers, w.to, 10ms, tick{2});
    w.advance(30ms);
  }
  w.advance(30ms);
  kept.cancel();
  w.advance(1s);
  std::size_t ones = 0, twos = 0;
  for (const auto& [n, at] : w.seen) (n == 1 ? ones : twos) += 1;
  CHECK(ones == 6);
  CHECK(twos == 3);
  CHECK(w.timers.pending() == 0);
}

TEST_CASE("delayed and periodic sends reach an actor on a thread_pool in real time") {
  courier::system sys{{.workers = 2}};
  std::atomic<int> delayed{0}, periodic{0};
  struct counter : actor {
    using handles = courier::handles<tick>;
    std::atomic<int>& once;
    std::atomic<int>& every;
    counter(std::atomic<int>& a, std::atomic<int>& b) : once{a}, every{b} {}
    void on(const tick& t) { (t.n == 0 ? once : every).fetch_add(1); }
  };
  auto a = sys.spawn<counter>(delayed, periodic);
  const auto sent = std::chrono::steady_clock::now();
  send_after(sys.timers(), a, 20ms, tick{0});
  auto h = send_periodic(sys.timers(), a, 1ms, tick{1});
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  REQUIRE(courier::test::wait_until([&] { return delayed.load() == 1 && periodic.load() >= 20; }, deadline));
  CHECK(std::chrono::steady_clock::now() - sent >= 20ms);
  h.cancel();
  CHECK(sys.await_idle(30s));
}

// The timer thread is woken only by a timer earlier than the deadline it
// sleeps until; a later one waits for that wake-up. Both kinds must fire.
TEST_CASE("real-time timers fire whether they come before or after the one the timer thread sleeps for") {
  courier::real_time_timers timers;
  std::atomic<int> fired{0};
  std::vector<int> order;
  std::mutex order_mutex;
  auto note = [&](int n) {
    return [&, n] {
      std::lock_guard lock{order_mutex};
      order.push_back(n);
      fired.fetch_add(1);
    };
  };
  const auto far = timers.start_after(1h, note(99));  // the thread sleeps for this one
  (void)timers.start_after(30ms, note(2));               // earlier: wakes the thread
  (void)timers.start_after(10ms, note(1));               // earlier still
  (void)timers.start_after(40ms, note(3));               // later than the thread's next wake-up: no wake needed
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  REQUIRE(courier::test::wait_until([&] { return fired.load() == 3; }, deadline));
  CHECK(timers.cancel(far));
  // With nothing left armed the thread still sleeps for the cancelled hour;
  // a new timer is earlier, so it must wake it.
  (void)timers.start_after(5ms, note(4));
  REQUIRE(courier::test::wait_until([&] { return fired.load() == 4; }, deadline));
  std::lock_guard lock{order_mutex};
  CHECK(order == std::vector<int>{1, 2, 3, 4});
}
