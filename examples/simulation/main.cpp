// A day of a ride-hailing city, simulated: 10^5 riders and drivers over 24
// virtual hours, deterministic from a seed.
//
// Usage: simulation [ACTORS] [HOURS] [--faults] [--trace FILE] [--print N]
//   COURIER_SIM_SEED=N   the seed (default 1); the same seed prints the same trace hash
//   --faults             lose 1% of driver announcements, delay dispatch by up to 2 s,
//                        and cut zone 7 off from its dispatcher for hour 3
//   --trace FILE         write the trace (its first 2^20 records and the hash) to FILE
//   --print N            print the first N trace records
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "ride_hailing.hpp"

namespace {

struct options {
  std::uint64_t actors = 100'000;
  int hours = 24;
  bool faults = false;
  std::string trace_file;
  std::size_t print = 0;
};

options parse(int argc, char** argv) {
  options o;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--faults") o.faults = true;
    else if (a == "--trace") o.trace_file = value();
    else if (a == "--print") o.print = std::stoull(value());
    else if (positional == 0) o.actors = std::stoull(a), ++positional;
    else if (positional == 1) o.hours = std::stoi(a), ++positional;
    else throw std::invalid_argument("unexpected argument " + a);
  }
  if (o.actors < 20 || o.hours < 1) throw std::invalid_argument("need at least 20 actors and 1 hour");
  return o;
}

int run(const options& o) {
  using namespace city;
  const std::uint64_t seed = courier::sim::seed_from_env(1);
  courier::sim::world w{{.seed = seed}};
  const auto start = w.now();
  totals t;

  const std::uint64_t drivers = o.actors / 10;
  const std::uint64_t riders = o.actors - drivers - zones - 1;
  auto books = w.sys().spawn<ledger>(t);
  std::vector<courier::subscription> subs;
  subs.push_back(w.bus().subscribe<trip_completed>("trips.completed", books).value());
  subs.push_back(w.bus().subscribe<ride_abandoned>("rides.abandoned", books).value());
  for (int z = 0; z < zones; ++z) {
    auto d = w.sys().spawn<dispatcher>(w);
    subs.push_back(w.bus().serve<ride_request>(zone_subject("dispatch", z), d).value());
    subs.push_back(w.bus().subscribe<driver_available>(zone_subject("drivers", z) + ".available", d).value());
  }
  for (std::uint32_t i = 0; i < drivers; ++i) {
    auto d = w.sys().spawn<driver>(w, i);
    const int zone = static_cast<int>(w.rng().below(zones));
    (void)w.bus().publish(zone_subject("drivers", zone) + ".available", driver_available{i, d});
  }
  for (std::uint64_t i = 0; i < riders; ++i) {
    auto r = w.sys().spawn<rider>(w, t);
    courier::send_after(w.sys().timers(), r, between(w.rng(), 0h, std::chrono::hours{o.hours}), want_ride{});
  }
  if (o.faults) {
    w.inject("drivers.*.available", courier::sim::drop{.probability = 0.01});
    w.inject("dispatch.*", courier::sim::delay{.probability = 1.0, .min = {}, .max = 2s});
    w.inject("dispatch.7", courier::sim::drop{}, false).on_at(start + 3h).off_at(start + 4h);
  }

  const auto wall = std::chrono::steady_clock::now();
  const std::uint64_t steps = w.run_until(start + std::chrono::hours{o.hours});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();

  const auto d = w.deliveries();
  auto minutes = [](courier::duration x, std::uint64_t n) {
    return n == 0 ? 0.0 : std::chrono::duration<double, std::ratio<60>>(x).count() / static_cast<double>(n);
  };
  fmt::print("ride-hailing: {} riders, {} drivers, {} zones, {} virtual hours ({} actors)\n", riders, drivers,
             zones, o.hours, w.sys().spawned());
  fmt::print("  ride requests {}: matched {}, no driver free {}, dispatch timeouts {}, abandoned {}\n",
             t.requests, t.matched, t.no_driver, t.timeouts, t.abandoned);
  fmt::print("  trips completed {}, revenue {:.2f}, mean pick-up wait {:.1f} min, mean trip {:.1f} min\n",
             t.trips, static_cast<double>(t.revenue_cents) / 100.0, minutes(t.pickup_wait, t.matched),
             minutes(t.trip_time, t.trips));
  fmt::print("  bus: {} published, {} requests, {} deliveries; faults: {} dropped, {} delayed\n",
             w.bus().stats().published, w.bus().stats().requests, d.delivered, d.dropped, d.delayed);
  fmt::print("  world: {} steps, {} trace records, {:.2f} s wall ({:.0f} virtual s per wall s)\n", steps,
             w.trace().count(), seconds, o.hours * 3600.0 / seconds);
  fmt::print("seed: {} (rerun: COURIER_SIM_SEED={} {}{})\n", seed, seed, "simulation",
             fmt::format(" {} {}{}", o.actors, o.hours, o.faults ? " --faults" : ""));
  if (o.print > 0) w.trace().print(stdout, o.print);
  if (!o.trace_file.empty() && !w.trace().write(o.trace_file)) {
    fmt::print(stderr, "simulation: cannot write {}\n", o.trace_file);
    return 1;
  }
  fmt::print("trace hash: {:016x}\n", w.trace_hash());
  return t.trips > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "simulation: {}\n", e.what());
    return 2;
  }
}
