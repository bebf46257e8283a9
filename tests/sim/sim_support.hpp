#pragma once

// Helpers shared by the simulation tests.
//
// Seeds. Property tests run sim::check over seeds 1..N (N = 1000, or
// COURIER_SIM_SEEDS). A failure names its seed and the command that reruns
// that seed alone, e.g.
//
//     COURIER_SIM_SEED=417 '/path/to/courier-sim-tests' "fifo per publisher per subscriber under delay"
//
// Soak variants, tagged [soak], run 10^5 seeds (or COURIER_SIM_SEEDS) within
// COURIER_SOAK_SECONDS when that is set.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <string>

#include <courier/sim.hpp>

namespace courier::sim_test {

/// This test binary and the current test's name: a command that reruns it.
inline std::string rerun_command() {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string exe = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : "./courier-sim-tests";
  return "'" + exe + "' \"" + Catch::getResultCapture().getCurrentTestName() + "\"";
}

/// The options for a property over `seeds` seeds in the normal suite.
inline sim::check_options property(std::uint64_t seeds = 1000) {
  return sim::check_options{.seeds = seeds, .first_seed = 1, .budget_seconds = 0, .rerun = rerun_command()};
}

/// The options for a [soak] campaign: 10^5 seeds from where the suite stops.
inline sim::check_options soak() {
  return sim::check_options{.seeds = 100'000, .first_seed = 1'001, .budget_seconds = 1'500, .rerun = rerun_command()};
}

/// Runs the property and fails the test with the seed and rerun command.
inline void require_holds(std::string_view property, const sim::scenario& run, const sim::check_options& opts) {
  const sim::check_result r = sim::check(property, run, opts);
  INFO(r.report());
  REQUIRE(r.ok());
  REQUIRE(r.seeds_run > 0);
}

}  // namespace courier::sim_test
