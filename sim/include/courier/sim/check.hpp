#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace courier::sim {

/// How many seeds check() runs, and how it tells people to rerun one.
struct check_options {
  /// Seeds first_seed, first_seed + 1, ...; COURIER_SIM_SEEDS overrides the count.
  std::uint64_t seeds = 1000;
  std::uint64_t first_seed = 1;
  /// Stop early, reporting how far it got, after this much wall time (0: no limit);
  /// when it is set, COURIER_SOAK_SECONDS overrides it.
  double budget_seconds = 0;
  /// The command that runs this check, e.g. `./courier-sim-tests "fifo under delay"`;
  /// a failure prints `COURIER_SIM_SEED=<seed> <rerun>`.
  std::string rerun = {};
};

/// What check() found.
struct check_result {
  std::string property;
  std::uint64_t seeds_run = 0;
  std::optional<std::uint64_t> failing_seed;
  std::string failure;  ///< What the scenario reported for the failing seed.
  std::string rerun;    ///< The command that reruns the failing seed alone.
  [[nodiscard]] bool ok() const noexcept { return !failing_seed; }
  /// One line for a pass, or the failure with its seed and rerun command.
  [[nodiscard]] std::string report() const;
};

/// A scenario runs one world from `seed` and returns "" if every invariant
/// held, or what broke. An exception it throws counts as a failure.
using scenario = std::function<std::string(std::uint64_t seed)>;

/// Runs `run` over many seeds and stops at the first that fails. With
/// COURIER_SIM_SEED set it runs that one seed only. Prints the failing seed
/// and its rerun command to stderr.
check_result check(std::string_view property, const scenario& run, const check_options& opts = {});

}  // namespace courier::sim
