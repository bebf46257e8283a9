#include <catch2/catch.hpp>

#include <courier/courier.hpp>
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "responders.hpp"

namespace {

struct note {
  int n;
};

class collector : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit collector(std::vector<int>& seen) : seen_{seen} {}
  void on(const note& n) { seen_.push_back(n.n); }

 private:
  std::vector<int>& seen_;
};

}  // namespace

TEST_CASE("a delivery interceptor decides each delivery: now, later, twice or never", "[bus][intercept]") {
  courier::manual_executor exec{{.seed = 3}};
  courier::virtual_clock clk;
  courier::virtual_timers timers{clk};
  courier::system sys{{.exec = &exec, .timers = &timers}};
  std::vector<courier::delivery> kept;
  std::vector<std::string> seen_patterns;
  courier::bus bus{sys, {.intercept = courier::intercept_each([&](const courier::delivery& d) {
                           seen_patterns.emplace_back(d.pattern());
                           const int n = d.message()->as<note>().n;
                           if (n == 1) return courier::errc::ok;  // never
                           if (n == 2) {                          // later
                             kept.push_back(d);
                             return courier::errc::ok;
                           }
                           if (n == 3) (void)d.deliver();  // twice
                           if (n == 4) return courier::errc::mailbox_full;
                           return d.deliver();
                         })}};
  std::vector<int> seen;
  auto sub = bus.subscribe<note>("a.*", sys.spawn<collector>(seen)).value();
  CHECK(bus.publish("a.x", note{0}) == courier::errc::ok);
  CHECK(bus.publish("a.x", note{1}) == courier::errc::ok);
  CHECK(bus.publish("a.x", note{2}) == courier::errc::ok);
  CHECK(bus.publish("a.x", note{3}) == courier::errc::ok);
  CHECK(bus.publish("a.x", note{4}) == courier::errc::mailbox_full);  // the interceptor's outcome is publish's
  exec.run();
  CHECK(seen == std::vector<int>{0, 3, 3});
  CHECK(seen_patterns == std::vector<std::string>(5, "a.*"));
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].deliver() == courier::errc::ok);  // a copy still owns the message and subscription
  exec.run();
  CHECK(seen == std::vector<int>{0, 3, 3, 2});
  CHECK(sub.stats().delivered == 4);
  const courier::delivery late = kept[0];
  sub.unsubscribe();
  CHECK(late.deliver() == courier::errc::cancelled);
  exec.run();
  CHECK(seen.size() == 4);
}

namespace {

/// Lets even notes through to the bus and records what it was told; decides odd ones itself.
struct evens_pass final : courier::delivery_interceptor {
  bool passes(const courier::message_ptr& m) override { return m->as<note>().n % 2 == 0; }
  void delivered(const courier::message_ptr& m, const courier::delivery_interceptor::report& first,
                 std::size_t also) override {
    told.push_back({m->as<note>().n, first.subscription, std::string{first.pattern}, first.outcome, also});
  }
  courier::errc intercept(const courier::delivery& d) override {
    asked.push_back(d.message()->as<note>().n);
    return d.deliver();
  }
  struct call {
    int note;
    std::uint64_t sub;
    std::string pattern;
    courier::errc outcome;
    std::size_t also;
    bool operator==(const call&) const = default;
  };
  std::vector<call> told;
  std::vector<int> asked;
};

}  // namespace

TEST_CASE("a message the interceptor passes is delivered by the bus and reported, not intercepted",
          "[bus][intercept]") {
  auto watch = std::make_shared<evens_pass>();
  courier::test::virtual_bus f{3, {.intercept = watch}};
  auto& exec = f.exec;
  auto& sys = f.sys;
  auto& bus = f.bus;
  std::vector<int> wide, narrow;
  auto all = bus.subscribe<note>("a.*", sys.spawn<collector>(wide)).value();
  auto one = bus.subscribe<note>("a.x", sys.spawn<collector>(narrow),
                                 {.capacity = 1, .policy = courier::overflow::reject})
                 .value();
  CHECK(bus.publish("a.x", note{0}) == courier::errc::ok);
  CHECK(bus.publish("a.x", note{1}) == courier::errc::mailbox_full);  // `one` is full, whoever decides
  CHECK(bus.publish("a.x", note{2}) == courier::errc::mailbox_full);
  exec.run();
  CHECK(watch->asked == std::vector<int>{1, 1});  // once per subscriber, odd only
  using call = evens_pass::call;
  CHECK(watch->told == std::vector<call>{{0, all.id(), "a.*", courier::errc::ok, 0},
                                         {0, one.id(), "a.x", courier::errc::ok, 0},
                                         {2, all.id(), "a.*", courier::errc::ok, 0},
                                         {2, one.id(), "a.x", courier::errc::mailbox_full, 0}});
  CHECK(wide == std::vector<int>{0, 1, 2});
  CHECK(narrow == std::vector<int>{0});
  CHECK(all.stats().delivered == 3);
  CHECK(one.stats().rejected == 2);
}

TEST_CASE("every delivery of a wide fan-out is reported, a run of plain ones in one call, in the same order each time, before publish returns",
          "[bus][intercept]") {
  auto watch = std::make_shared<evens_pass>();
  courier::test::virtual_bus f{5, {.intercept = watch}};
  auto& bus = f.bus;
  std::vector<int> seen;
  std::vector<courier::subscription> subs;
  // Some of them bounded, so that both of the bus's delivery paths report.
  constexpr int wide = 75;
  for (int i = 0; i < wide; ++i) {
    courier::subscribe_options opts;
    if (i % 7 == 0) opts = {.capacity = 4, .policy = courier::overflow::reject};
    subs.push_back(bus.subscribe<note>("fan.out", f.sys.spawn<collector>(seen), opts).value());
  }
  REQUIRE(bus.publish("fan.out", note{0}) == courier::errc::ok);
  // Before any turn has run, every delivery: a bounded subscription's on its
  // own, and each run of plain ones between them in one call.
  std::size_t reported = 0;
  std::vector<std::uint64_t> firsts;
  for (const auto& c : watch->told) {
    CHECK(c.note == 0);
    CHECK(c.pattern == "fan.out");
    CHECK(c.outcome == courier::errc::ok);
    reported += 1 + c.also;
    firsts.push_back(c.sub);
  }
  CHECK(reported == wide);
  for (int i = 0; i < wide; i += 7) {  // the bounded ones
    auto it = std::find(firsts.begin(), firsts.end(), subs[i].id());
    REQUIRE(it != firsts.end());
    CHECK(watch->told[static_cast<std::size_t>(it - firsts.begin())].also == 0);
  }
  // Eleven bounded subscriptions (0, 7, ..., 70), each followed by a run of
  // plain ones: 22 calls.
  CHECK(watch->told.size() == 22);
  // A second publish reports in the same order as the first.
  std::vector<evens_pass::call> first = watch->told;
  for (auto& c : first) c.note = 2;
  watch->told.clear();
  REQUIRE(bus.publish("fan.out", note{2}) == courier::errc::ok);
  CHECK(watch->told == first);
  CHECK(watch->asked.empty());
  f.exec.run();
  CHECK(seen.size() == 2 * wide);
}
