#include <catch2/catch.hpp>

#include <courier/runtime/clock.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using courier::time_point;

TEST_CASE("virtual_clock starts where it is told and moves only when advanced") {
  courier::virtual_clock clk{time_point{5s}};
  CHECK(clk.now() == time_point{5s});
  CHECK(clk.now() == time_point{5s});
  CHECK(courier::virtual_clock{}.now() == time_point{});
}

TEST_CASE("virtual_clock advance adds exactly the given duration") {
  courier::virtual_clock clk;
  CHECK(clk.advance(1ns) == time_point{1ns});
  CHECK(clk.advance(2h) == time_point{2h + 1ns});
  CHECK(clk.now() == time_point{2h + 1ns});
}

TEST_CASE("virtual_clock advance_to moves to the given time") {
  courier::virtual_clock clk{time_point{1s}};
  CHECK(clk.advance_to(time_point{90s}) == time_point{90s});
  CHECK(clk.now() == time_point{90s});
}

TEST_CASE("virtual_clock never goes backwards") {
  courier::virtual_clock clk{time_point{10s}};
  CHECK(clk.advance(-1s) == time_point{10s});
  CHECK(clk.advance(0s) == time_point{10s});
  CHECK(clk.advance_to(time_point{3s}) == time_point{10s});
  CHECK(clk.advance_to(time_point{10s}) == time_point{10s});
  CHECK(clk.now() == time_point{10s});
}

TEST_CASE("virtual_clock reads the same through the clock interface") {
  courier::virtual_clock clk{time_point{7ms}};
  const courier::clock& base = clk;
  clk.advance(3ms);
  CHECK(base.now() == time_point{10ms});
}

TEST_CASE("steady_clock readings never decrease") {
  courier::steady_clock clk;
  const courier::clock& base = clk;
  time_point last = base.now();
  for (int i = 0; i < 10'000; ++i) {
    const time_point t = base.now();
    REQUIRE(t >= last);
    last = t;
  }
}

TEST_CASE("virtual_clock readers on another thread see time only move forward") {
  courier::virtual_clock clk;
  constexpr int steps = 100'000;
  std::atomic<bool> done{false};
  std::thread advancer{[&] {
    for (int i = 0; i < steps; ++i) clk.advance(1ns);
    done.store(true, std::memory_order_release);
  }};
  time_point last = clk.now();
  bool monotone = true;
  while (!done.load(std::memory_order_acquire)) {
    const time_point t = clk.now();
    monotone = monotone && t >= last;
    last = t;
  }
  advancer.join();
  CHECK(monotone);
  CHECK(clk.now() == time_point{std::chrono::nanoseconds{steps}});
}

TEST_CASE("concurrent advance_to calls leave the clock at the latest target") {
  courier::virtual_clock clk;
  constexpr int steps = 50'000;
  auto climb = [&](int offset) {
    for (int i = 0; i < steps; ++i) clk.advance_to(time_point{std::chrono::nanoseconds{2 * i + offset}});
  };
  std::thread odd{climb, 1};
  climb(0);
  odd.join();
  CHECK(clk.now() == time_point{std::chrono::nanoseconds{2 * (steps - 1) + 1}});
}
