#include <catch2/catch.hpp>

#include <courier/runtime/timer_wheel.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using courier::duration;
using courier::time_point;
using courier::timer_id;
using courier::timer_wheel;

namespace {

std::uint64_t test_seed() {
  if (const char* s = std::getenv("COURIER_TEST_SEED")) return std::strtoull(s, nullptr, 0);
  return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
}

duration random_ns(std::mt19937_64& rng, duration below) {
  return duration{static_cast<duration::rep>(rng() % static_cast<std::uint64_t>(below.count()))};
}

struct shot {
  std::uint64_t token;
  time_point deadline;
};

/// Advances `wheel` to `now`, appending what fired.
std::size_t run_to(timer_wheel& wheel, time_point now, std::vector<shot>& out) {
  return wheel.advance(now, [&](std::uint64_t token, time_point deadline) { out.push_back({token, deadline}); });
}

std::vector<std::uint64_t> tokens_of(const std::vector<shot>& shots) {
  std::vector<std::uint64_t> tokens;
  for (const shot& s : shots) tokens.push_back(s.token);
  return tokens;
}

}  // namespace

TEST_CASE("timers fire in deadline order, each in the first advance that reaches it") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  timer_wheel wheel;
  std::vector<time_point> deadline(1000);
  for (std::uint64_t t = 0; t < deadline.size(); ++t) {
    deadline[t] = time_point{random_ns(rng, 10s)};
    wheel.schedule(deadline[t], t);
  }
  std::vector<shot> fired;
  std::optional<time_point> before;
  for (time_point now{}; fired.size() < deadline.size(); now += random_ns(rng, 50ms)) {
    const std::size_t first = fired.size();
    run_to(wheel, now, fired);
    for (std::size_t i = first; i < fired.size(); ++i) {
      REQUIRE(fired[i].deadline == deadline[fired[i].token]);
      REQUIRE(fired[i].deadline <= now);
      REQUIRE((!before || fired[i].deadline > *before));
    }
    before = now;
  }
  CHECK(std::is_sorted(fired.begin(), fired.end(), [](const shot& a, const shot& b) { return a.deadline < b.deadline; }));
  CHECK(wheel.pending() == 0);
}

TEST_CASE("a timer does not fire before its deadline, to the nanosecond") {
  timer_wheel wheel;
  wheel.schedule(time_point{5ms + 300ns}, 1);
  wheel.schedule(time_point{7ms}, 2);
  std::vector<shot> fired;
  CHECK(run_to(wheel, time_point{5ms + 299ns}, fired) == 0);
  CHECK(run_to(wheel, time_point{5ms + 300ns}, fired) == 1);
  CHECK(run_to(wheel, time_point{7ms - 1ns}, fired) == 0);
  CHECK(run_to(wheel, time_point{7ms}, fired) == 1);
  CHECK(tokens_of(fired) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("timers with equal deadlines fire in scheduling order") {
  timer_wheel wheel;
  const time_point d{10h + 3ms + 7ns};
  wheel.schedule(d, 0);  // far away: starts at a high level and cascades down
  std::vector<shot> fired;
  run_to(wheel, d - 20s, fired);
  wheel.schedule(d, 1);
  run_to(wheel, d - 5ms, fired);
  for (std::uint64_t t = 2; t < 100; ++t) wheel.schedule(d, t);
  wheel.schedule(d - 1ns, 100);
  run_to(wheel, d, fired);
  std::vector<std::uint64_t> expected{100};
  for (std::uint64_t t = 0; t < 100; ++t) expected.push_back(t);
  CHECK(tokens_of(fired) == expected);
}

TEST_CASE("a cancel before the deadline always wins") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  timer_wheel wheel;
  std::vector<timer_id> ids;
  std::vector<bool> cancelled(10'000);
  for (std::uint64_t t = 0; t < cancelled.size(); ++t) ids.push_back(wheel.schedule(time_point{random_ns(rng, 1h)}, t));
  for (std::size_t t = 0; t < cancelled.size(); ++t) {
    if (rng() % 2 != 0) {
      cancelled[t] = true;
      REQUIRE(wheel.cancel(ids[t]));
    }
  }
  std::vector<shot> fired;
  run_to(wheel, time_point{1h}, fired);
  for (const shot& s : fired) REQUIRE_FALSE(cancelled[s.token]);
  CHECK(fired.size() == static_cast<std::size_t>(std::count(cancelled.begin(), cancelled.end(), false)));
}

TEST_CASE("a timer cancelled by on_fire of an earlier timer in the same advance does not fire") {
  timer_wheel wheel;
  wheel.schedule(time_point{5ms}, 0);
  const timer_id same_tick = wheel.schedule(time_point{5ms + 1ns}, 1);
  const timer_id later_tick = wheel.schedule(time_point{9ms}, 2);
  std::vector<std::uint64_t> fired;
  std::vector<bool> results;
  wheel.advance(time_point{10ms}, [&](std::uint64_t token) {
    fired.push_back(token);
    if (token == 0) {
      results.push_back(wheel.cancel(same_tick));
      results.push_back(wheel.cancel(later_tick));
      results.push_back(wheel.cancel(same_tick));
    }
  });
  CHECK(fired == std::vector<std::uint64_t>{0});
  CHECK(results == std::vector<bool>{true, true, false});
  CHECK(wheel.pending() == 0);
}

TEST_CASE("cancel after fire returns false, also from the timer's own on_fire") {
  timer_wheel wheel;
  timer_id id = wheel.schedule(time_point{1ms}, 7);
  std::optional<bool> cancelled_inside;
  wheel.advance(time_point{1ms}, [&](std::uint64_t) { cancelled_inside = wheel.cancel(id); });
  CHECK(cancelled_inside == false);
  CHECK_FALSE(wheel.cancel(id));
  CHECK(wheel.pending() == 0);
}

TEST_CASE("stale and foreign handles are safe to cancel") {
  timer_wheel wheel;
  CHECK_FALSE(wheel.cancel(timer_id{}));
  CHECK_FALSE(wheel.cancel(timer_id{0xFFFF'FFFF, 0}));
  CHECK_FALSE(wheel.cancel(timer_id{3, 0}));  // an index never handed out
  const timer_id old = wheel.schedule(time_point{1s}, 1);
  CHECK(wheel.cancel(old));
  CHECK_FALSE(wheel.cancel(old));
  const timer_id reused = wheel.schedule(time_point{1s}, 2);
  CHECK(reused.index == old.index);
  CHECK_FALSE(wheel.cancel(old));
  std::vector<shot> fired;
  run_to(wheel, time_point{1s}, fired);
  CHECK(tokens_of(fired) == std::vector<std::uint64_t>{2});
  const timer_id next = wheel.schedule(time_point{2s}, 3);
  CHECK_FALSE(wheel.cancel(reused));
  CHECK_FALSE(wheel.cancel(timer_id{next.index, next.generation + 1}));
  CHECK(wheel.pending() == 1);
}

TEST_CASE("periodic timers re-scheduled from on_fire do not drift") {
  const duration period = 1ms + 337ns;  // not a multiple of the resolution
  constexpr std::uint64_t periods = 10'000;
  const time_point end{period * periods};
  timer_wheel wheel;
  std::uint64_t count = 0;
  time_point last{};
  auto tick = [&](std::uint64_t token, time_point deadline) {
    ++count;
    REQUIRE(deadline == time_point{period * static_cast<duration::rep>(count)});
    last = deadline;
    wheel.schedule(deadline + period, token);
  };
  wheel.schedule(time_point{period}, 0);

  SECTION("advanced in one step") { wheel.advance(end, tick); }
  SECTION("advanced in uneven steps") {
    const std::uint64_t seed = test_seed();
    INFO("seed " << seed);
    std::mt19937_64 rng{seed};
    for (time_point now{}; now < end;) wheel.advance(now = std::min(end, now + random_ns(rng, 40ms)), tick);
  }
  CHECK(count == periods);
  CHECK(last == end);
  CHECK(wheel.pending() == 1);
  CHECK(wheel.next_deadline() == end + period);
}

TEST_CASE("periods shorter than a tick interleave in deadline order") {
  timer_wheel wheel;  // 1 ms ticks
  const duration period[2] = {300us, 700us};
  std::vector<shot> fired;
  wheel.schedule(time_point{period[0]}, 0);
  wheel.schedule(time_point{period[1]}, 1);
  wheel.advance(time_point{1s}, [&](std::uint64_t token, time_point deadline) {
    fired.push_back({token, deadline});
    wheel.schedule(deadline + period[token], token);
  });
  CHECK(std::is_sorted(fired.begin(), fired.end(), [](const shot& a, const shot& b) { return a.deadline < b.deadline; }));
  const auto count = [&](std::uint64_t t) { return std::count_if(fired.begin(), fired.end(), [t](const shot& s) { return s.token == t; }); };
  CHECK(count(0) == 3333);
  CHECK(count(1) == 1428);
}

TEST_CASE("a deadline already passed fires on the next advance") {
  timer_wheel wheel;
  std::vector<shot> fired;
  run_to(wheel, time_point{10s}, fired);
  wheel.schedule(time_point{10s - 1ns}, 1);
  wheel.schedule(time_point{}, 0);
  wheel.schedule(time_point{-1s}, 2);
  CHECK(wheel.next_deadline() == time_point{-1s});
  CHECK(run_to(wheel, time_point{10s}, fired) == 3);
  CHECK(tokens_of(fired) == std::vector<std::uint64_t>{2, 0, 1});
}

TEST_CASE("a timer scheduled from on_fire that is already due fires in the same advance") {
  timer_wheel wheel;
  wheel.schedule(time_point{4ms}, 0);
  wheel.schedule(time_point{6ms}, 1);
  std::vector<std::uint64_t> fired;
  const std::size_t n = wheel.advance(time_point{8ms}, [&](std::uint64_t token) {
    fired.push_back(token);
    if (token == 0) {
      wheel.schedule(time_point{2ms}, 10);       // in the past: fires right away
      wheel.schedule(time_point{5ms}, 11);       // between the two
      wheel.schedule(time_point{8ms + 1ns}, 12);  // after now: waits
    }
  });
  CHECK(n == 4);
  CHECK(fired == std::vector<std::uint64_t>{0, 10, 11, 1});
  CHECK(wheel.pending() == 1);
}

TEST_CASE("advancing to an earlier time never moves the wheel back") {
  timer_wheel wheel;
  std::vector<shot> fired;
  run_to(wheel, time_point{10s}, fired);
  wheel.schedule(time_point{10s + 5ms}, 1);
  CHECK(run_to(wheel, time_point{5s}, fired) == 0);
  CHECK(wheel.next_deadline() == time_point{10s + 5ms});
  CHECK(run_to(wheel, time_point{10s + 5ms}, fired) == 1);
}

TEST_CASE("a wheel started late measures deadlines from its start") {
  const time_point start{1'000'000s + 123us};
  timer_wheel wheel{{.resolution = 1ms, .start = start}};
  wheel.schedule(start + 5ms, 1);
  std::vector<shot> fired;
  CHECK(run_to(wheel, start + 5ms - 1ns, fired) == 0);
  CHECK(run_to(wheel, start + 5ms, fired) == 1);
}

TEST_CASE("an exception from on_fire leaves the unfired timers pending") {
  timer_wheel wheel;
  wheel.schedule(time_point{5ms}, 0);
  wheel.schedule(time_point{5ms + 1ns}, 1);
  const timer_id cancelled = wheel.schedule(time_point{5ms + 2ns}, 2);
  wheel.schedule(time_point{9ms}, 3);
  auto thrower = [&](std::uint64_t token) {
    if (token == 0) {
      wheel.cancel(cancelled);
      throw std::runtime_error{"handler failed"};
    }
  };
  CHECK_THROWS_AS(wheel.advance(time_point{10ms}, thrower), std::runtime_error);
  CHECK(wheel.pending() == 2);
  CHECK(wheel.next_deadline() == time_point{5ms + 1ns});
  std::vector<shot> fired;
  CHECK(run_to(wheel, time_point{10ms}, fired) == 2);
  CHECK(tokens_of(fired) == std::vector<std::uint64_t>{1, 3});
}

TEST_CASE("a million timers scheduled, cancelled and fired at random leave nothing pending") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  enum class state : unsigned char { pending, cancelled, fired };
  constexpr std::uint64_t total = 1'000'000;
  std::vector<state> states;
  std::vector<time_point> deadlines;
  std::vector<timer_id> ids;
  std::vector<std::uint64_t> live;  // tokens not yet cancelled (some may have fired)
  timer_wheel wheel;
  time_point now{};
  auto fire = [&](std::uint64_t token, time_point deadline) {
    REQUIRE(states[token] == state::pending);
    REQUIRE(deadline == deadlines[token]);
    REQUIRE(deadline <= now);
    states[token] = state::fired;
  };
  auto cancel = [&](std::size_t k) {
    const std::uint64_t token = live[k];
    live[k] = live.back();
    live.pop_back();
    REQUIRE(wheel.cancel(ids[token]) == (states[token] == state::pending));
    if (states[token] == state::pending) states[token] = state::cancelled;
  };
  while (states.size() < total) {
    const std::uint64_t op = rng() % 16;
    if (op < 8 || live.empty()) {
      const std::uint64_t token = states.size();
      states.push_back(state::pending);
      deadlines.push_back(now + random_ns(rng, op < 2 ? 20ms : 2h));
      ids.push_back(wheel.schedule(deadlines.back(), token));
      live.push_back(token);
    } else if (op < 15) {
      cancel(rng() % live.size());
    } else {
      wheel.advance(now += random_ns(rng, 20ms), fire);
    }
  }
  while (!live.empty()) cancel(live.size() - 1);
  CHECK(wheel.pending() == 0);
  CHECK_FALSE(wheel.next_deadline().has_value());
  CHECK(wheel.advance(now + 24h * 365, fire) == 0);
  CHECK(std::count(states.begin(), states.end(), state::pending) == 0);
}

TEST_CASE("a hundred thousand timers over an hour all fire in order in a one-hour advance") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  timer_wheel wheel;
  constexpr std::size_t n = 100'000;
  std::vector<time_point> deadlines;
  for (std::uint64_t t = 0; t < n; ++t) {
    deadlines.push_back(time_point{random_ns(rng, 1h)});
    wheel.schedule(deadlines.back(), t);
  }
  std::vector<shot> fired;
  fired.reserve(n);
  CHECK(run_to(wheel, time_point{1h}, fired) == n);
  REQUIRE(fired.size() == n);
  CHECK(wheel.pending() == 0);
  bool ordered = true;
  for (std::size_t i = 0; i < n; ++i) {
    ordered = ordered && fired[i].deadline == deadlines[fired[i].token];
    if (i > 0) {
      const shot& a = fired[i - 1];
      const shot& b = fired[i];
      ordered = ordered && (a.deadline < b.deadline || (a.deadline == b.deadline && a.token < b.token));
    }
  }
  CHECK(ordered);
}

TEST_CASE("deadlines days away, beyond the top level, fire on time") {
  // At 1 us ticks the six levels span 2^36 us, about 19 hours; days go to the overflow list.
  timer_wheel wheel{{.resolution = 1us}};
  const std::vector<time_point> deadlines{time_point{24h}, time_point{48h + 1ns}, time_point{72h},
                                          time_point{30 * 24h}, time_point{365 * 24h}};
  for (std::uint64_t t = 0; t < deadlines.size(); ++t) wheel.schedule(deadlines[t], t);
  CHECK(wheel.next_deadline() == deadlines[0]);
  std::vector<shot> fired;
  CHECK(run_to(wheel, deadlines[0] - 1ns, fired) == 0);
  CHECK(run_to(wheel, deadlines[0], fired) == 1);
  CHECK(wheel.next_deadline() == deadlines[1]);
  CHECK(run_to(wheel, deadlines[1] - 1ns, fired) == 0);
  for (time_point now = deadlines[1]; now <= time_point{400 * 24h}; now += 1h) {
    const std::size_t before = fired.size();
    run_to(wheel, now, fired);
    for (std::size_t i = before; i < fired.size(); ++i) REQUIRE(fired[i].deadline > now - 1h);
  }
  CHECK(tokens_of(fired) == std::vector<std::uint64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("timers on slot, level and span boundaries fire exactly on time") {
  // At 1 ns ticks every boundary of every level, and of the whole span, is a deadline here.
  const time_point start{duration{12'345}};
  timer_wheel wheel{{.resolution = 1ns, .start = start}};
  std::vector<time_point> deadlines;
  for (unsigned bits = 6; bits <= 6 * (timer_wheel::levels + 1); bits += 6) {
    const duration span{std::int64_t{1} << bits};
    for (const duration delta : {-1ns, 0ns, 1ns}) {
      deadlines.push_back(time_point{span + delta});
      deadlines.push_back(time_point{3 * span + delta});
      deadlines.push_back(start + span + delta);
    }
  }
  for (std::uint64_t t = 0; t < deadlines.size(); ++t) wheel.schedule(deadlines[t], t);
  std::sort(deadlines.begin(), deadlines.end());
  std::vector<shot> fired;
  for (const time_point d : deadlines) {
    if (d < start) continue;
    run_to(wheel, d - 1ns, fired);
    const auto before = static_cast<std::size_t>(std::lower_bound(deadlines.begin(), deadlines.end(), d) - deadlines.begin());
    REQUIRE(fired.size() == before);
    run_to(wheel, d, fired);
    REQUIRE(fired.size() == static_cast<std::size_t>(std::upper_bound(deadlines.begin(), deadlines.end(), d) - deadlines.begin()));
  }
  CHECK(wheel.pending() == 0);
}

TEST_CASE("the last representable deadline stays pending until time reaches it") {
  timer_wheel wheel;
  wheel.schedule(time_point::max(), 1);
  std::vector<shot> fired;
  CHECK(run_to(wheel, time_point{24h * 365 * 100}, fired) == 0);
  CHECK(wheel.next_deadline() == time_point::max());
  CHECK(run_to(wheel, time_point::max(), fired) == 1);
}

TEST_CASE("next_deadline is the exact earliest pending deadline") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  // At 1 us ticks the overflow list holds everything past 19 hours and is redistributed often.
  const duration resolution = GENERATE(as<duration>{}, 1ms, 1us);
  timer_wheel wheel{{.resolution = resolution}};
  std::map<std::uint64_t, std::pair<timer_id, time_point>> live;
  std::multiset<time_point> model;
  time_point now{};
  const auto model_min = [&]() -> std::optional<time_point> {
    if (model.empty()) return std::nullopt;
    return *model.begin();
  };
  auto fire = [&](std::uint64_t token, time_point deadline) {
    REQUIRE(live.at(token).second == deadline);
    model.erase(model.find(deadline));
    live.erase(token);
    REQUIRE(wheel.next_deadline() == model_min());  // also exact from inside on_fire
  };
  const duration horizons[] = {500us, 50ms, 10s, 2h, 3 * 24h, 3 * 365 * 24h};
  for (std::uint64_t token = 0; token < 20'000; ++token) {
    const std::uint64_t op = rng() % 8;
    if (op < 4 || live.empty()) {
      const time_point d = now + random_ns(rng, horizons[rng() % 6]);
      live[token] = {wheel.schedule(d, token), d};
      model.insert(d);
    } else if (op < 7) {
      auto it = live.lower_bound(rng() % token);
      if (it == live.end()) it = live.begin();
      REQUIRE(wheel.cancel(it->second.first));
      model.erase(model.find(it->second.second));
      live.erase(it);
    } else {
      wheel.advance(now += random_ns(rng, horizons[rng() % 4]), fire);
    }
    REQUIRE(wheel.pending() == model.size());
    REQUIRE(wheel.next_deadline() == model_min());
  }
}

TEST_CASE("a non-positive resolution is rejected at construction") {
  CHECK_THROWS_AS(timer_wheel({.resolution = 0ns}), std::invalid_argument);
  CHECK_THROWS_AS(timer_wheel({.resolution = -1ms}), std::invalid_argument);
}
