#include <stdexcept>
#include <thread>
#include <vector>

#include "caf_support.hpp"

namespace {

using done_atom = caf::atom_constant<caf::atom("done")>;

struct sink_state {
  std::uint64_t received = 0;
  std::uint64_t sum = 0;
};

caf::behavior sink(caf::stateful_actor<sink_state>* self, std::uint64_t expected,
                   caf::actor done_to) {
  return {[=](std::uint64_t value) {
    self->state.sum += value;
    if (++self->state.received == expected) self->send(done_to, done_atom::value, self->state.sum);
  }};
}

}  // namespace

COURIER_BENCH("n1", "caf") {
  namespace workload = courier::bench::workload;
  const auto per_producer = workload::n1_per_producer(opts);
  const auto total = per_producer * workload::n1_producers;
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  caf::scoped_actor waiter{sys};
  auto target = sys.spawn(sink, total, caf::actor{waiter});

  const auto start = courier::bench::clock_type::now();
  std::vector<std::thread> producers;
  for (int p = 0; p < workload::n1_producers; ++p) {
    producers.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_producer; ++i) caf::anon_send(target, i);
    });
  }
  std::uint64_t sum = 0;
  waiter->receive([&](done_atom, std::uint64_t s) { sum = s; });

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = total;
  for (auto& t : producers) t.join();
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  if (sum != workload::n1_producers * (per_producer * (per_producer - 1) / 2))
    throw std::runtime_error("n1/caf: sink received the wrong sum");
  return r;
}
