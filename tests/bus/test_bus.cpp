#include <catch2/catch.hpp>

#include <courier/courier.hpp>
#include <vector>

#include "responders.hpp"

using courier::test::answer;
using courier::test::ask;
using courier::test::doubler;
using courier::test::silent;

namespace {

struct note {
  int n;
};

struct fixture : courier::test::virtual_bus {
  fixture() : virtual_bus{7} {}
};

class recorder : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit recorder(std::vector<int>& seen) : seen_{seen} {}
  void on(const note& n) { seen_.push_back(n.n); }

 private:
  std::vector<int>& seen_;
};

}  // namespace

TEST_CASE("a wildcard subscription receives every matching subject and no other", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("orders.*.placed", f.sys.spawn<recorder>(seen));
  REQUIRE(sub);
  CHECK(f.bus.publish("orders.eu.placed", note{1}) == courier::errc::ok);
  CHECK(f.bus.publish("orders.eu.cancelled", note{2}) == courier::errc::ok);
  CHECK(f.bus.publish("orders.us.placed", note{3}) == courier::errc::ok);
  f.exec.run();
  CHECK(seen == std::vector<int>{1, 3});
  CHECK(f.bus.stats().unroutable == 1);
}

TEST_CASE("an invalid subject is an error, never a crash", "[bus]") {
  fixture f;
  CHECK(f.bus.publish("orders..placed", note{1}) == courier::errc::invalid_subject);
  CHECK(f.bus.publish("orders.*", note{1}) == courier::errc::invalid_subject);
  std::vector<int> seen;
  auto bad = f.bus.subscribe<note>("a.>.b", f.sys.spawn<recorder>(seen));
  CHECK_FALSE(bad);
  CHECK(bad.error() == courier::errc::invalid_subject);
}

TEST_CASE("fan-out shares one payload and keeps each publisher's order", "[bus]") {
  fixture f;
  std::vector<int> a, b;
  auto s1 = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(a));
  auto s2 = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(b));
  for (int i = 0; i < 100; ++i) (void)f.bus.publish("n", note{i});
  f.exec.run();
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[static_cast<std::size_t>(i)] = i;
  CHECK(a == expected);
  CHECK(b == expected);
}

TEST_CASE("reject returns mailbox_full and never queues past capacity", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                   {.capacity = 4, .policy = courier::overflow::reject});
  int rejected = 0;
  for (int i = 0; i < 400; ++i)  // a publisher 100x faster than its consumer
    if (f.bus.publish("n", note{i}) == courier::errc::mailbox_full) ++rejected;
  f.exec.run();
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
  CHECK(rejected == 396);
  CHECK(sub.value().stats().rejected == 396);
  CHECK(sub.value().stats().max_depth <= 4);
}

TEST_CASE("drop_oldest keeps the newest capacity messages", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                   {.capacity = 3, .policy = courier::overflow::drop_oldest});
  for (int i = 0; i < 10; ++i) (void)f.bus.publish("n", note{i});
  f.exec.run();
  // The first message was already handed to the actor; the queue keeps the newest two.
  CHECK(seen == std::vector<int>{0, 8, 9});
  CHECK(sub.value().stats().dropped == 7);
  CHECK(sub.value().stats().max_depth <= 3);
}

TEST_CASE("drop_newest and dead_letter count every message they turn away", "[bus]") {
  fixture f;
  std::vector<int> seen, dead;
  auto s1 = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                  {.capacity = 2, .policy = courier::overflow::dead_letter});
  auto dl = f.bus.subscribe<courier::bus_dead_letter>(
      "courier.dead_letter.>", [&dead](const courier::bus_dead_letter& d) {
        CHECK(d.reason == "overflow");
        dead.push_back(d.original->as<note>().n);
      });
  for (int i = 0; i < 5; ++i) (void)f.bus.publish("n", note{i});
  f.exec.run();
  CHECK(seen == std::vector<int>{0, 1});
  CHECK(dead == std::vector<int>{2, 3, 4});
  CHECK(s1.value().stats().dead_lettered == 3);
}

namespace {
/// Records the payload number of each dead letter it handles.
class dead_recorder : public courier::actor {
 public:
  using handles = courier::handles<courier::bus_dead_letter>;
  explicit dead_recorder(std::vector<int>& seen) : seen_{seen} {}
  void on(const courier::bus_dead_letter& d) { seen_.push_back(d.original->as<note>().n); }

 private:
  std::vector<int>& seen_;
};
}  // namespace

TEST_CASE("dead letters are published like any message: a queue group gets each once, a bound holds", "[bus]") {
  fixture f;
  std::vector<int> seen, a, b, bounded;
  auto s1 = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                  {.capacity = 1, .policy = courier::overflow::dead_letter});
  auto m1 = f.bus.subscribe<courier::bus_dead_letter>("courier.dead_letter.>", f.sys.spawn<dead_recorder>(a),
                                                      {.queue_group = "ops"});
  auto m2 = f.bus.subscribe<courier::bus_dead_letter>("courier.dead_letter.>", f.sys.spawn<dead_recorder>(b),
                                                      {.queue_group = "ops"});
  // Bounded, and itself overflowing into the dead-letter subject: what it turns away is counted, not sent round again.
  auto small = f.bus.subscribe<courier::bus_dead_letter>(
      "courier.dead_letter.n", f.sys.spawn<dead_recorder>(bounded),
      {.capacity = 1, .policy = courier::overflow::dead_letter});
  for (int i = 0; i < 5; ++i) (void)f.bus.publish("n", note{i});
  f.exec.run();
  CHECK(seen == std::vector<int>{0});
  CHECK(s1.value().stats().dead_lettered == 4);
  CHECK(a.size() + b.size() == 4);  // one member each, round-robin
  CHECK(a.size() == 2);
  CHECK(bounded == std::vector<int>{1});
  CHECK(small.value().stats().dead_lettered == 3);
  CHECK(small.value().stats().delivered == 1);
  const courier::bus_metrics m = f.bus.metrics();
  const auto* dl_subject = m.subject("courier.dead_letter.n");
  REQUIRE(dl_subject);
  CHECK(dl_subject->published == 4);
}

TEST_CASE("a dead letter whose subject would pass the limits goes to <prefix>._overlong", "[bus]") {
  fixture f;
  const std::string token(20, 'x');
  std::string longest = token;
  while (longest.size() + 1 + token.size() <= courier::max_subject_length) longest += "." + token;
  REQUIRE(courier::validate_subject(longest) == courier::errc::ok);
  std::vector<std::string> subjects;
  courier::bus_config cfg{.dead_letter_unroutable = true};
  courier::bus bus{f.sys, cfg};
  auto dl = bus.subscribe<courier::bus_dead_letter>(
      "courier.dead_letter.>", [&subjects](const courier::bus_dead_letter& d) {
        CHECK(d.reason == "unroutable");
        const courier::envelope& env = *courier::envelope_of(*courier::current_message());
        CHECK(env.headers == std::vector<std::pair<std::string, std::string>>{{"reason", "unroutable"}});
        CHECK(env.causation_id == courier::envelope_of(*d.original)->id);
        subjects.push_back(env.subject + " " + d.subject);
      });
  CHECK(bus.publish(longest, note{1}) == courier::errc::ok);
  CHECK(bus.publish("short", note{2}) == courier::errc::ok);
  f.exec.run();
  CHECK(subjects == std::vector<std::string>{"courier.dead_letter._overlong " + longest,
                                             "courier.dead_letter.short short"});
}

TEST_CASE("inbox dedupe delivers a message id once and counts the repeats", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen), {.dedupe_window = 16});
  auto id = courier::uuid::v7();
  for (int i = 0; i < 3; ++i) (void)f.bus.publish("n", note{1}, {.id = id});
  (void)f.bus.publish("n", note{2});
  f.exec.run();
  CHECK(seen == std::vector<int>{1, 2});
  CHECK(sub.value().stats().duplicates == 2);
}

TEST_CASE("an unbounded subscription's window ages ids from the subscriber's turn", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                   {.dedupe_window = 16, .dedupe_max_age = std::chrono::seconds{1}});
  auto id = courier::uuid::v7();
  (void)f.bus.publish("n", note{1}, {.id = id});
  SECTION("dedupe forgets ids older than the window's age") {
    f.exec.run();  // checked in this turn, 2 s before the second copy's
    f.timers.advance(std::chrono::seconds{2});
    (void)f.bus.publish("n", note{1}, {.id = id});
    f.exec.run();
    CHECK(seen.size() == 2);
    CHECK(sub.value().stats().duplicates == 0);
  }
  SECTION("copies published apart but checked in one turn are duplicates") {
    f.timers.advance(std::chrono::seconds{2});
    (void)f.bus.publish("n", note{1}, {.id = id});
    CHECK(sub.value().stats().delivered == 0);  // nothing screened yet: both wait in the mailbox
    f.exec.run();
    // Both were screened at the same instant, so the second is a duplicate.
    CHECK(seen == std::vector<int>{1});
    CHECK(sub.value().stats().delivered == 1);
    CHECK(sub.value().stats().duplicates == 1);
  }
}

TEST_CASE("an unbounded window's subscriber that stops first: its queued messages count as delivered, dead-lettered",
          "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto target = f.sys.spawn<recorder>(seen);
  auto sub = f.bus.subscribe<note>("n", target, {.dedupe_window = 16});
  REQUIRE(sub);
  const auto id = courier::uuid::v7();
  (void)f.bus.publish("n", note{1}, {.id = id});
  (void)f.bus.publish("n", note{1}, {.id = id});  // a duplicate, but never screened
  target.stop();
  f.exec.run();
  CHECK(seen.empty());
  CHECK(sub.value().stats().delivered == 2);
  CHECK(sub.value().stats().duplicates == 0);
  CHECK(f.sys.dead_letters()[courier::dead_letter_reason::stopped] == 2);
}

TEST_CASE("a bounded subscription's window ages ids from the publish", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>(
      "n", f.sys.spawn<recorder>(seen),
      {.capacity = 2, .policy = courier::overflow::reject, .dedupe_window = 16, .dedupe_max_age = std::chrono::seconds{1}});
  auto id = courier::uuid::v7();
  CHECK(f.bus.publish("n", note{1}, {.id = id}) == courier::errc::ok);
  CHECK(f.bus.publish("n", note{1}, {.id = id}) == courier::errc::ok);  // a duplicate takes no slot
  f.timers.advance(std::chrono::seconds{2});
  CHECK(f.bus.publish("n", note{1}, {.id = id}) == courier::errc::ok);  // forgotten: takes the second slot
  CHECK(f.bus.publish("n", note{2}) == courier::errc::mailbox_full);
  CHECK(sub.value().stats().duplicates == 1);
  f.exec.run();
  CHECK(seen == std::vector<int>{1, 1});
}

TEST_CASE("a message a bounded subscription turns away is not remembered: its retry is delivered", "[bus]") {
  using courier::overflow;
  const overflow policy =
      GENERATE(overflow::reject, overflow::drop_newest, overflow::drop_oldest, overflow::dead_letter, overflow::block);
  CAPTURE(static_cast<int>(policy));
  fixture f;
  std::vector<int> seen;
  // One slot, taken by the first message until the subscriber's turn.
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen),
                                   {.capacity = 1,
                                    .policy = policy,
                                    .block_timeout = std::chrono::milliseconds{1},
                                    .dedupe_window = 16});
  REQUIRE(sub);
  CHECK(f.bus.publish("n", note{0}) == courier::errc::ok);
  const auto id = courier::uuid::v7();
  const courier::errc refused = f.bus.publish("n", note{1}, {.id = id});
  CHECK(refused == (policy == overflow::reject  ? courier::errc::mailbox_full
                    : policy == overflow::block ? courier::errc::timeout
                                                : courier::errc::ok));
  const courier::subscription_stats st = sub.value().stats();
  CHECK(st.dropped + st.rejected + st.timed_out + st.dead_lettered == 1);
  f.exec.run();
  CHECK(f.bus.publish("n", note{1}, {.id = id}) == courier::errc::ok);  // the retry, same id
  f.exec.run();
  CHECK(seen == std::vector<int>{0, 1});
  CHECK(sub.value().stats().duplicates == 0);
  // Once delivered, the id is remembered.
  CHECK(f.bus.publish("n", note{1}, {.id = id}) == courier::errc::ok);
  f.exec.run();
  CHECK(seen == std::vector<int>{0, 1});
  CHECK(sub.value().stats().duplicates == 1);
}

TEST_CASE("a keyed queue group sends one key to one member, in order", "[bus]") {
  fixture f;
  std::vector<int> a, b;
  auto s1 = f.bus.subscribe<note>("jobs", f.sys.spawn<recorder>(a), {.queue_group = "w"});
  auto s2 = f.bus.subscribe<note>("jobs", f.sys.spawn<recorder>(b), {.queue_group = "w"});
  for (int i = 0; i < 20; ++i) (void)f.bus.publish("jobs", note{i}, {.key = "customer-42"});
  f.exec.run();
  CHECK(a.size() + b.size() == 20);
  CHECK((a.empty() || b.empty()));
  auto& got = a.empty() ? b : a;
  CHECK(std::is_sorted(got.begin(), got.end()));
}

TEST_CASE("a round-robin queue group balances its members", "[bus]") {
  fixture f;
  std::vector<int> a, b;
  auto s1 = f.bus.subscribe<note>("jobs", f.sys.spawn<recorder>(a), {.queue_group = "w"});
  auto s2 = f.bus.subscribe<note>("jobs", f.sys.spawn<recorder>(b), {.queue_group = "w"});
  for (int i = 0; i < 100; ++i) (void)f.bus.publish("jobs", note{i});
  f.exec.run();
  CHECK(a.size() == 50);
  CHECK(b.size() == 50);
}

TEST_CASE("request-reply returns the handler's value", "[bus]") {
  fixture f;
  auto srv = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto fut = f.bus.request<answer>("math.double", ask{21}, std::chrono::milliseconds{50});
  f.exec.run();
  auto r = fut.get();
  REQUIRE(r);
  CHECK(r->n == 42);
}

TEST_CASE("a request nobody serves fails at once with no_responders", "[bus]") {
  fixture f;
  auto fut = f.bus.request<answer>("math.double", ask{1}, std::chrono::milliseconds{50});
  REQUIRE(fut.wait_for(std::chrono::seconds{0}) == std::future_status::ready);
  CHECK(fut.get().error() == courier::errc::no_responders);
}

TEST_CASE("a request times out on virtual time and a late reply is counted", "[bus]") {
  fixture f;
  auto srv = f.bus.serve<ask>("slow", f.sys.spawn<doubler>());
  std::optional<courier::reply<answer>> got;
  f.bus.request<answer>("slow", ask{1}, std::chrono::milliseconds{50},
                        [&](courier::reply<answer> r) { got = std::move(r); });
  f.timers.advance(std::chrono::milliseconds{49});
  CHECK_FALSE(got);
  f.timers.advance(std::chrono::milliseconds{1});
  REQUIRE(got);
  CHECK(got->error() == courier::errc::timeout);
  f.exec.run();  // now the responder answers, too late
  CHECK(f.bus.stats().late_replies == 1);
}

TEST_CASE("a throwing handler fails the request with its text", "[bus]") {
  fixture f;
  auto srv = f.bus.serve<ask>("math.double", f.sys.spawn<doubler>());
  auto fut = f.bus.request<answer>("math.double", ask{-1}, std::chrono::milliseconds{50});
  f.exec.run();
  auto r = fut.get();
  CHECK(r.error() == courier::errc::handler_failed);
  CHECK(r.error_text == "negative");
}

TEST_CASE("a responder that never answers leads to timeout, not a hang", "[bus]") {
  fixture f;
  auto srv = f.bus.serve<ask>("q", f.sys.spawn<silent>());
  auto fut = f.bus.request<answer>("q", ask{1}, std::chrono::seconds{5});
  f.exec.run();
  CHECK(f.timers.advance_to_next());
  CHECK(fut.get().error() == courier::errc::timeout);
}

TEST_CASE("publishing from a handler sets causation and correlation ids", "[bus]") {
  fixture f;
  courier::uuid first_id, second_cause, second_corr;
  struct relay : courier::actor {
    using handles = courier::handles<note>;
    explicit relay(courier::bus& b) : b_{b} {}
    void on(const note& n) { (void)b_.publish("second", answer{n.n}); }
    courier::bus& b_;
  };
  class spy : public courier::actor {
   public:
    using handles = courier::handles<answer>;
    spy(courier::uuid& cause, courier::uuid& corr) : cause_{cause}, corr_{corr} {}
    void on(const answer&) {
      const auto* env = courier::envelope_of(*courier::current_message());
      cause_ = env->causation_id;
      corr_ = env->correlation_id;
    }

   private:
    courier::uuid& cause_;
    courier::uuid& corr_;
  };
  auto s1 = f.bus.subscribe<note>("first", f.sys.spawn<relay>(f.bus));
  auto s2 = f.bus.subscribe<answer>("second", f.sys.spawn<spy>(second_cause, second_corr));
  first_id = courier::uuid::v7();
  (void)f.bus.publish("first", note{1}, {.id = first_id});
  f.exec.run();
  CHECK(second_cause == first_id);
  CHECK(second_corr == first_id);
}

TEST_CASE("unsubscribing stops delivery", "[bus]") {
  fixture f;
  std::vector<int> seen;
  auto sub = f.bus.subscribe<note>("n", f.sys.spawn<recorder>(seen));
  (void)f.bus.publish("n", note{1});
  sub.value().unsubscribe();
  (void)f.bus.publish("n", note{2});
  f.exec.run();
  CHECK(seen == std::vector<int>{1});
}

TEST_CASE("a publisher's cached route follows every subscribe and unsubscribe", "[bus]") {
  fixture f;
  std::vector<int> first, second;
  auto a = f.bus.subscribe<note>("n.*", f.sys.spawn<recorder>(first)).value();
  (void)f.bus.publish("n.x", note{1});  // the route for n.x is cached now: a alone
  auto b = f.bus.subscribe<note>("n.x", f.sys.spawn<recorder>(second)).value();
  (void)f.bus.publish("n.x", note{2});  // the cached route must include b
  a.unsubscribe();
  (void)f.bus.publish("n.x", note{3});  // and no longer a
  b.unsubscribe();
  CHECK(f.bus.publish("n.x", note{4}) == courier::errc::ok);  // unroutable, counted
  f.exec.run();
  CHECK(first == std::vector<int>{1, 2});
  CHECK(second == std::vector<int>{2, 3});
  CHECK(f.bus.metrics().subject("n.x")->unroutable == 1);
}

namespace {
/// A payload that counts its live copies: a leak leaves some alive, a
/// double free takes the count below zero.
struct tracked {
  static inline std::atomic<int> live{0};
  int n = 0;
  explicit tracked(int v) : n{v} { live.fetch_add(1); }
  tracked(const tracked& o) : n{o.n} { live.fetch_add(1); }
  ~tracked() { live.fetch_sub(1); }
};

class tracked_sink : public courier::actor {
 public:
  using handles = courier::handles<tracked>;
  explicit tracked_sink(std::atomic<int>& seen) : seen_{seen} {}
  void on(const tracked&) { seen_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<int>& seen_;
};
}  // namespace

TEST_CASE("a fan-out's mailbox nodes are freed with the message once every subscriber is done", "[bus]") {
  // Past the first subscriber a publish's nodes come from one block per
  // message (bus.cpp, fanout_block): plain subscribers, a queue group that
  // takes one of its slots, a stopped actor that dead-letters its node and,
  // with an interceptor, copies beyond the block's size.
  tracked::live = 0;
  const bool with_copies = GENERATE(false, true);
  std::atomic<int> seen{0};
  std::uint64_t dead = 0;
  {
    courier::system sys{{.workers = 2}};
    courier::bus_config cfg;
    if (with_copies)
      cfg.intercept = courier::intercept_each([](const courier::delivery& d) {
        (void)d.deliver();
        return d.deliver();  // every subscriber gets the message twice
      });
    courier::bus bus{sys, std::move(cfg)};
    std::vector<courier::subscription> subs;
    for (int i = 0; i < 6; ++i)
      subs.push_back(std::move(bus.subscribe<tracked>("t", sys.spawn<tracked_sink>(seen)).value()));
    for (int i = 0; i < 3; ++i)
      subs.push_back(std::move(
          bus.subscribe<tracked>("t", sys.spawn<tracked_sink>(seen), {.queue_group = "g"}).value()));
    auto stopped = sys.spawn<tracked_sink>(seen);
    subs.push_back(std::move(bus.subscribe<tracked>("t", stopped).value()));
    stopped.stop();
    REQUIRE(sys.await_idle());
    constexpr int messages = 2000;
    for (int i = 0; i < messages; ++i) REQUIRE(bus.publish("t", tracked{i}) == courier::errc::ok);
    REQUIRE(sys.await_idle());
    const int per_message = with_copies ? 2 : 1;
    CHECK(seen.load() == messages * 7 * per_message);  // six plain subscribers and one group member
    dead = sys.dead_letters()[courier::dead_letter_reason::stopped];
    CHECK(dead == static_cast<std::uint64_t>(messages * per_message));
  }
  CHECK(tracked::live.load() == 0);
}

TEST_CASE("a drop_oldest subscription's waiting messages still go out once its bus is gone", "[bus]") {
  courier::manual_executor exec{{.seed = 7}};
  courier::virtual_clock clk;
  courier::virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  std::vector<int> seen;
  const auto target = sys.spawn<recorder>(seen);
  {
    courier::bus bus{sys};
    auto sub = bus.subscribe<note>("n", target, {.capacity = 3, .policy = courier::overflow::drop_oldest}).value();
    for (int i = 0; i < 10; ++i) (void)bus.publish("n", note{i});
  }  // one message in the mailbox, two waiting behind it
  exec.run();  // each one handled hands over the next, without the bus
  CHECK(seen == std::vector<int>{0, 8, 9});
}
