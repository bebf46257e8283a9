#pragma once

// Helpers shared by the runtime tests.
//
// Seeds. A randomised test takes its seed from COURIER_TEST_SEED when that is
// set, and from std::random_device otherwise. COURIER_TEST_SEED(name) declares
// `name`, attaches it to every assertion of the test through INFO, and prints
// the command that replays the run to stderr:
//
//     COURIER_TEST_SEED=123 ./courier-bus-tests "<test name>"
//
// naming the binary that ran, to be started from its build directory
// (build/<preset>/tests), where ctest runs it.
//
// Scale. Stress tests multiply their item, cycle and round counts by
// COURIER_STRESS_SCALE (a positive number, default 1). At scale 1 the runtime
// suite takes about 10 s in a plain build, 25 s under ASan+UBSan and 60 s
// under TSan on two cores, so CI runs it unscaled. Set a scale below 1 on a
// slower machine, or above 1 to soak locally; a scale never shrinks a count
// below a floor that still exercises the race in question.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <utility>

namespace courier::test {

/// COURIER_TEST_SEED if set, else a fresh seed from std::random_device.
inline std::uint64_t seed_from_env() {
  if (const char* s = std::getenv("COURIER_TEST_SEED"); s != nullptr && *s != '\0')
    return std::strtoull(s, nullptr, 0);
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

/// The shell command that reruns the current test case with `seed`.
inline std::string replay_command(std::uint64_t seed) {
  // The config's name is the file name of the process's argv[0] unless --name was given.
  return "COURIER_TEST_SEED=" + std::to_string(seed) + " ./" + Catch::getCurrentContext().getConfig()->name() + " \"" +
         Catch::getResultCapture().getCurrentTestName() + "\"";
}

/// Prints the replay command to stderr and returns it for INFO.
inline std::string announce_seed(std::uint64_t seed) {
  std::string cmd = replay_command(seed);
  std::fprintf(stderr, "[seed] %s\n", cmd.c_str());
  return cmd;
}

/// COURIER_STRESS_SCALE, or 1.
inline double stress_scale() {
  if (const char* s = std::getenv("COURIER_STRESS_SCALE"); s != nullptr && *s != '\0') {
    double v = std::strtod(s, nullptr);
    if (v > 0) return v;
  }
  return 1.0;
}

/// `n` multiplied by the stress scale, but never less than `floor`.
inline std::uint64_t scaled(std::uint64_t n, std::uint64_t floor = 1) {
  auto v = static_cast<std::uint64_t>(static_cast<double>(n) * stress_scale());
  return std::max(v, std::min(n, floor));
}

/// Polls `pred` until it holds or `deadline` passes; true if it held.
/// Yields between polls: it waits for a condition, never for a time.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::yield();
  }
}

template <class Pred>
bool wait_for(Pred&& pred, std::chrono::steady_clock::duration timeout) {
  return wait_until(std::forward<Pred>(pred), std::chrono::steady_clock::now() + timeout);
}

/// A deadline `d` from now.
inline std::chrono::steady_clock::time_point in(std::chrono::steady_clock::duration d) {
  return std::chrono::steady_clock::now() + d;
}

}  // namespace courier::test

/// Declares `const std::uint64_t name`, the test's seed, and reports it.
#define COURIER_TEST_SEED(name)                                          \
  const std::uint64_t name = ::courier::test::seed_from_env();           \
  INFO("seed " << name << "; replay: " << ::courier::test::announce_seed(name))
