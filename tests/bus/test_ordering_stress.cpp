#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <courier/courier.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/test_support.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t publishers = 4;
constexpr std::size_t subscribers = 8;

struct sequenced {
  std::uint32_t publisher;
  std::uint32_t seq;
};

/// What one subscriber saw; written by its actor, read once the system is idle.
struct tally {
  std::array<std::uint32_t, publishers> next{};  // the seq expected next from each publisher
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t foreign = 0;
};

class checker : public courier::actor {
 public:
  using handles = courier::handles<sequenced>;
  explicit checker(tally& t) : t_{t} {}
  void on(const sequenced& m) {
    ++t_.received;
    if (m.publisher >= publishers) {
      ++t_.foreign;
      return;
    }
    if (m.seq != t_.next[m.publisher]) ++t_.out_of_order;
    t_.next[m.publisher] = m.seq + 1;
  }

 private:
  tally& t_;
};

}  // namespace

// Half the subscribers are unbounded; half are bounded with overflow::block,
// which also keeps the publishers from running far ahead of the workers. The
// count is full size in every build, sanitized ones included (as in the
// runtime's stress tests); COURIER_STRESS_SCALE shrinks or grows it.
TEST_CASE("4 publishers to 8 subscribers on a thread_pool: each publisher's order holds at every subscriber",
          "[bus][stress]") {
  const auto per_publisher = static_cast<std::uint32_t>(courier::test::scaled(1'000'000, 10'000));
  CAPTURE(per_publisher);
  courier::system sys{{.workers = 4}};
  courier::bus bus{sys};
  std::vector<std::unique_ptr<tally>> tallies;
  std::vector<courier::subscription> subs;
  for (std::size_t i = 0; i < subscribers; ++i) {
    tallies.push_back(std::make_unique<tally>());
    courier::subscribe_options opts;
    if (i % 2 == 1) opts = {.capacity = 1024, .policy = courier::overflow::block, .block_timeout = 60s};
    subs.push_back(bus.subscribe<sequenced>("stress.*", sys.spawn<checker>(*tallies.back()), opts).value());
  }

  std::vector<std::thread> threads;
  std::array<std::uint64_t, publishers> failed{};
  for (std::uint32_t p = 0; p < publishers; ++p)
    threads.emplace_back([&, p] {
      const std::string subject = "stress.p" + std::to_string(p);
      for (std::uint32_t i = 0; i < per_publisher; ++i)
        if (bus.publish(subject, sequenced{p, i}) != courier::errc::ok) ++failed[p];
    });
  for (auto& t : threads) t.join();
  REQUIRE(sys.await_idle(courier::test::in(300s)));

  for (std::uint32_t p = 0; p < publishers; ++p) CHECK(failed[p] == 0);
  for (std::size_t i = 0; i < subscribers; ++i) {
    INFO("subscriber " << i);
    const tally& t = *tallies[i];
    CHECK(t.received == std::uint64_t{publishers} * per_publisher);
    CHECK(t.out_of_order == 0);
    CHECK(t.foreign == 0);
    for (std::uint32_t p = 0; p < publishers; ++p) CHECK(t.next[p] == per_publisher);
  }
  const courier::bus_metrics m = bus.metrics();
  CHECK(m.published == std::uint64_t{publishers} * per_publisher);
  CHECK(m.unroutable == 0);
  REQUIRE(m.subjects.size() == publishers);
  for (const auto& s : m.subjects) {
    INFO(s.subject);
    CHECK(s.published == per_publisher);
    CHECK(s.delivered == std::uint64_t{subscribers} * per_publisher);
    CHECK(s.dropped.total() == 0);
  }
  for (const auto& s : m.subscriptions) {
    CHECK(s.delivered == std::uint64_t{publishers} * per_publisher);
    CHECK(s.dropped.total() == 0);
    CHECK(s.depth == 0);
  }
}

namespace {

/// Counts what it handles; `busy` slows each message down so publishers outrun it.
class slow_counter : public courier::actor {
 public:
  using handles = courier::handles<sequenced>;
  slow_counter(std::atomic<std::uint64_t>& handled, int busy) : handled_{handled}, busy_{busy} {}
  void on(const sequenced& m) {
    std::uint64_t x = m.seq;
    for (int i = 0; i < busy_; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    work_ ^= x;  // kept, so the loop is not optimised away
    handled_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t>& handled_;
  int busy_;
  std::uint64_t work_ = 0;
};

}  // namespace

// The bounded policies other than drop_oldest claim mailbox slots with a CAS
// and give them back without a lock: under racing publishers every message is
// delivered or turned away exactly once, and the depth never passes capacity.
TEST_CASE("racing publishers into small bounded subscriptions: each message counted once, depth within capacity",
          "[bus][stress]") {
  const auto per_publisher = static_cast<std::uint32_t>(courier::test::scaled(20'000, 2'000));
  CAPTURE(per_publisher);
  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  constexpr std::size_t capacity = 4;
  const std::array policies{courier::overflow::block, courier::overflow::reject, courier::overflow::drop_newest};
  std::array<std::atomic<std::uint64_t>, 3> handled{};
  std::vector<courier::subscription> subs;
  for (std::size_t i = 0; i < policies.size(); ++i)
    subs.push_back(bus.subscribe<sequenced>("bounded.*", sys.spawn<slow_counter>(handled[i], 200),
                                            {.capacity = capacity, .policy = policies[i], .block_timeout = 60s})
                       .value());
  std::vector<std::thread> threads;
  std::array<std::uint64_t, publishers> refused{};  // mailbox_full from the reject subscription
  std::array<std::uint64_t, publishers> other{};    // any other outcome but ok
  for (std::uint32_t p = 0; p < publishers; ++p)
    threads.emplace_back([&, p] {
      const std::string subject = "bounded.p" + std::to_string(p);
      for (std::uint32_t i = 0; i < per_publisher; ++i) {
        const courier::errc e = bus.publish(subject, sequenced{p, i});
        if (e == courier::errc::mailbox_full) ++refused[p];
        else if (e != courier::errc::ok) ++other[p];
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(sys.await_idle(courier::test::in(300s)));

  const std::uint64_t total = std::uint64_t{publishers} * per_publisher;
  std::uint64_t refused_total = 0;
  for (std::uint32_t p = 0; p < publishers; ++p) {
    CHECK(other[p] == 0);
    refused_total += refused[p];
  }
  const auto block = subs[0].stats(), reject = subs[1].stats(), newest = subs[2].stats();
  CHECK(handled[0].load() == total);  // block loses nothing
  CHECK(block.delivered == total);
  CHECK(block.timed_out == 0);
  CHECK(handled[1].load() + reject.rejected == total);
  CHECK(reject.delivered == handled[1].load());
  CHECK(reject.rejected == refused_total);
  CHECK(handled[2].load() + newest.dropped == total);
  CHECK(newest.delivered == handled[2].load());
  for (const auto& s : {block, reject, newest}) {
    CHECK(s.max_depth <= capacity);
    CHECK(s.max_depth >= 1);
  }
  for (const auto& m : bus.metrics().subscriptions) CHECK(m.depth == 0);
}

TEST_CASE("a blocking publish inside a schedule burst hands the burst over before it waits", "[bus]") {
  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  std::atomic<int> seen{0};
  auto sub = bus.subscribe<sequenced>("n", [&seen](const sequenced&) { seen.fetch_add(1); },
                                      {.capacity = 1, .policy = courier::overflow::block, .block_timeout = 20s})
                 .value();
  {
    // As a publish from a dead-letter sink inside a fan-out would run.
    const courier::schedule_burst burst{sys.exec()};
    CHECK(bus.publish("n", sequenced{0, 0}) == courier::errc::ok);
    // Waits for the first to be handled: a subscriber the burst still held would never run.
    CHECK(bus.publish("n", sequenced{0, 1}) == courier::errc::ok);
  }
  REQUIRE(courier::test::wait_until([&] { return seen.load() == 2; }, courier::test::in(20s)));
  CHECK(sub.stats().timed_out == 0);
}

namespace {
struct go {};

/// Publishes `count` messages to "slow" in one handler, on a worker thread.
class burst_publisher : public courier::actor {
 public:
  using handles = courier::handles<go>;
  burst_publisher(courier::bus& b, int count, std::atomic<int>& failures)
      : bus_{b}, count_{count}, failures_{failures} {}
  void on(const go&) {
    for (int i = 0; i < count_; ++i)
      if (bus_.publish("slow", sequenced{0, static_cast<std::uint32_t>(i)}) != courier::errc::ok) failures_.fetch_add(1);
  }

 private:
  courier::bus& bus_;
  int count_;
  std::atomic<int>& failures_;
};
}  // namespace

// The first publish makes the subscriber ready from a worker, which queues it
// to run next on that same worker; the second finds the mailbox full and
// waits. Unless the wait lets another worker take the subscriber, nothing
// frees a slot until block_timeout.
TEST_CASE("an actor's blocking publish lets another worker run the subscriber it made ready", "[bus]") {
  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  std::atomic<int> seen{0};
  std::atomic<int> failures{0};
  auto sub = bus.subscribe<sequenced>("slow", [&seen](const sequenced&) { seen.fetch_add(1); },
                                      {.capacity = 1, .policy = courier::overflow::block, .block_timeout = 20s})
                 .value();
  auto pub = sys.spawn<burst_publisher>(bus, 3, failures);
  pub.send(go{});
  REQUIRE(courier::test::wait_until([&] { return seen.load() == 3; }, courier::test::in(10s)));
  CHECK(failures.load() == 0);
  CHECK(sub.stats().timed_out == 0);
}
