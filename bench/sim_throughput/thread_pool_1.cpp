// sim_throughput on a one-worker thread_pool: the same workloads without
// determinism, for comparison with the simulated world.
#include "courier_support.hpp"
#include "workload.hpp"

namespace {

using namespace courier::bench;
using namespace courier::bench::sim_throughput;

/// Runs one load on a fresh one-worker system; returns the seconds it took.
double run_pool(load wl, const sizes& s) {
  courier::system sys{{.workers = 1}};
  courier::bus bus{sys};
  done_flag done;
  counter c;
  c.expected = deliveries(wl, s);
  c.done = [&done] { done.raise(); };
  keep k;
  const auto t0 = clock_type::now();
  start(wl, sys, bus, s, c, k);
  done.wait();
  return seconds_since(t0);
}

}  // namespace

COURIER_BENCH("sim_throughput", "thread_pool_1") {
  const sizes s = sizes_for(opts);
  return report(deliveries(load::pingpong, s), run_pool(load::pingpong, s),
                deliveries(load::fanout, s), run_pool(load::fanout, s));
}
