#include <stdexcept>

#include "caf_support.hpp"

namespace {

using courier::bench::clock_type;

using go_atom = caf::atom_constant<caf::atom("go")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

struct requester_state {
  caf::actor server;
  caf::actor done_to;
  std::uint64_t rounds = 0;
  std::uint64_t completed = 0;
  std::uint64_t mismatches = 0;
  courier::bench::latency_samples* samples = nullptr;
};

using requester_actor = caf::stateful_actor<requester_state>;

caf::behavior server() {
  return {[](std::uint64_t x) { return x + 1; }};
}

void request_next(requester_actor* self) {
  const auto x = self->state.completed;
  const auto sent_at = clock_type::now();
  self->request(self->state.server, caf::infinite, x).then([=](std::uint64_t y) {
    auto& st = self->state;
    st.samples->add(clock_type::now() - sent_at);
    if (y != x + 1) ++st.mismatches;
    if (++st.completed < st.rounds) {
      request_next(self);
    } else {
      self->send(st.done_to, done_atom::value, st.mismatches);
      self->quit();
    }
  });
}

caf::behavior requester(requester_actor* self, caf::actor server, caf::actor done_to,
                        std::uint64_t rounds, courier::bench::latency_samples* samples) {
  self->state.server = std::move(server);
  self->state.done_to = std::move(done_to);
  self->state.rounds = rounds;
  self->state.samples = samples;
  return {[=](go_atom) { request_next(self); }};
}

}  // namespace

COURIER_BENCH("reqrep", "caf") {
  const std::uint64_t rounds = courier::bench::workload::reqrep_round_trips(opts);
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  caf::scoped_actor waiter{sys};
  courier::bench::latency_samples samples{rounds};
  auto responder = sys.spawn(server);
  auto client = sys.spawn(requester, responder, caf::actor{waiter}, rounds, &samples);

  const auto start = clock_type::now();
  waiter->send(client, go_atom::value);
  std::uint64_t mismatches = 0;
  waiter->receive([&](done_atom, std::uint64_t m) { mismatches = m; });

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = rounds;
  samples.fill(r);
  caf::anon_send_exit(responder, caf::exit_reason::user_shutdown);
  if (mismatches != 0) throw std::runtime_error("reqrep/caf: wrong responses");
  return r;
}
