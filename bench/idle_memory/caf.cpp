#include <atomic>
#include <thread>
#include <vector>

#include "caf_support.hpp"

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

caf::behavior idle(caf::event_based_actor*, std::atomic<std::uint64_t>* started) {
  started->fetch_add(1, std::memory_order_release);
  return {[](ping_atom) {}};
}

}  // namespace

COURIER_BENCH("idle_memory", "caf") {
  const auto count = courier::bench::workload::idle_actors(opts);
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  std::atomic<std::uint64_t> started{0};
  std::vector<caf::actor> actors(count);

  const auto before = courier::bench::resident_bytes();
  const auto start = courier::bench::clock_type::now();
  for (auto& actor : actors) actor = sys.spawn(idle, &started);
  while (started.load(std::memory_order_acquire) < count)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  const auto after = courier::bench::resident_bytes();
  r.ops = count;
  const auto growth = after > before ? after - before : 0;
  r.bytes_per_actor = static_cast<double>(growth) / static_cast<double>(count);
  for (auto& actor : actors) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  return r;
}
