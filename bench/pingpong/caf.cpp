#include "caf_support.hpp"

namespace {

using courier::bench::clock_type;

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

constexpr std::uint64_t sample_every = 16;

struct pinger_state {
  clock_type::time_point sent_at;
};

caf::behavior ponger() {
  return {[](ping_atom, std::uint64_t i) { return std::make_tuple(pong_atom::value, i); }};
}

caf::behavior pinger(caf::stateful_actor<pinger_state>* self, caf::actor partner,
                     caf::actor done_to, std::uint64_t rounds,
                     courier::bench::latency_samples* samples) {
  self->state.sent_at = clock_type::now();
  self->send(partner, ping_atom::value, std::uint64_t{0});
  return {[=](pong_atom, std::uint64_t i) {
    if (i % sample_every == 0) samples->add(clock_type::now() - self->state.sent_at);
    if (++i == rounds) {
      self->send(done_to, done_atom::value);
      self->quit();
      return;
    }
    if (i % sample_every == 0) self->state.sent_at = clock_type::now();
    self->send(partner, ping_atom::value, i);
  }};
}

}  // namespace

COURIER_BENCH("pingpong", "caf") {
  const auto rounds = courier::bench::workload::pingpong_round_trips(opts);
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  caf::scoped_actor waiter{sys};
  courier::bench::latency_samples samples{rounds / sample_every + 1};

  auto partner = sys.spawn(ponger);
  const auto start = clock_type::now();
  sys.spawn(pinger, partner, caf::actor{waiter}, rounds, &samples);
  waiter->receive([](done_atom) {});

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = rounds;
  samples.fill(r);
  caf::anon_send_exit(partner, caf::exit_reason::user_shutdown);
  return r;
}
