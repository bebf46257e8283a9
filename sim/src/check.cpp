#include "courier/sim/check.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>

#include "courier/sim/world.hpp"

namespace courier::sim {

namespace {
std::optional<double> env_number(const char* name) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || v < 0) return std::nullopt;
  return v;
}
}  // namespace

std::string check_result::report() const {
  if (ok()) return fmt::format("{}: held for {} seeds", property, seeds_run);
  return fmt::format("{}: failed at seed {} (after {} seeds): {}\n  rerun: {}", property, *failing_seed,
                     seeds_run, failure, rerun);
}

check_result check(std::string_view property, const scenario& run, const check_options& opts) {
  check_result r;
  r.property = property;
  std::uint64_t first = opts.first_seed;
  std::uint64_t count = opts.seeds;
  if (const char* s = std::getenv("COURIER_SIM_SEED"); s != nullptr && *s != '\0') {
    first = seed_from_env(0);
    count = 1;
  } else if (auto n = env_number("COURIER_SIM_SEEDS")) {
    count = static_cast<std::uint64_t>(*n);
  }
  const double budget =
      opts.budget_seconds > 0 ? env_number("COURIER_SOAK_SECONDS").value_or(opts.budget_seconds) : 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seed = first + i;
    std::string failure;
    try {
      failure = run(seed);
    } catch (const std::exception& e) {
      failure = fmt::format("threw: {}", e.what());
    } catch (...) {
      failure = "threw a non-standard exception";
    }
    ++r.seeds_run;
    if (!failure.empty()) {
      r.failing_seed = seed;
      r.failure = std::move(failure);
      r.rerun = fmt::format("COURIER_SIM_SEED={} {}", seed, opts.rerun);
      fmt::print(stderr, "{}\n", r.report());
      return r;
    }
    if (budget > 0 && (i & 63) == 63 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > budget)
      break;
  }
  return r;
}

}  // namespace courier::sim
