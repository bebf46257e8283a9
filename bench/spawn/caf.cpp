#include <atomic>
#include <stdexcept>

#include "caf_support.hpp"

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;

caf::behavior one_shot(caf::event_based_actor* self, std::atomic<std::uint64_t>* handled) {
  return {[=](go_atom) {
    handled->fetch_add(1, std::memory_order_relaxed);
    self->quit();
  }};
}

}  // namespace

COURIER_BENCH("spawn", "caf") {
  const auto count = courier::bench::workload::spawn_actors(opts);
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  std::atomic<std::uint64_t> handled{0};

  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    auto actor = sys.spawn(one_shot, &handled);
    caf::anon_send(actor, go_atom::value);
  }
  sys.await_all_actors_done();

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = count;
  if (handled.load() != count)
    throw std::runtime_error("spawn/caf: not every actor handled its message");
  return r;
}
