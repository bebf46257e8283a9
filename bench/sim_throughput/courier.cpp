// sim_throughput in a simulated world: one thread, seeded schedule, every
// turn, delivery and timer traced and hashed (the world's defaults).
#include <stdexcept>

#include <courier/sim.hpp>

#include "workload.hpp"

namespace {

using namespace courier::bench;
using namespace courier::bench::sim_throughput;

/// Runs one workload in a fresh world; returns the seconds it took.
double run_world(load wl, const sizes& s) {
  courier::sim::world w{{.seed = 1}};
  counter c;
  c.expected = deliveries(wl, s);
  keep k;
  const auto t0 = clock_type::now();
  start(wl, w.sys(), w.bus(), s, c, k);
  w.run();
  const double seconds = seconds_since(t0);
  if (c.seen != c.expected) throw std::runtime_error("sim_throughput: deliveries went missing");
  return seconds;
}

}  // namespace

COURIER_BENCH("sim_throughput", "courier") {
  const sizes s = sizes_for(opts);
  return report(deliveries(load::pingpong, s), run_world(load::pingpong, s),
                deliveries(load::fanout, s), run_world(load::fanout, s));
}
