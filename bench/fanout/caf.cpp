#include <vector>

#include "caf_support.hpp"

namespace {

using done_atom = caf::atom_constant<caf::atom("done")>;

struct subscriber_state {
  std::uint64_t received = 0;
};

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, std::uint64_t expected,
                         caf::actor done_to) {
  return {[=](std::uint64_t) {
    if (++self->state.received == expected) self->send(done_to, done_atom::value);
  }};
}

}  // namespace

COURIER_BENCH("fanout", "caf") {
  const std::uint64_t messages = courier::bench::workload::fanout_messages(opts);
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  caf::scoped_actor waiter{sys};
  auto topic = sys.groups().get_local("fanout");
  std::vector<caf::actor> subscribers;
  for (int i = 0; i < courier::bench::workload::fanout_subscribers; ++i)
    subscribers.push_back(sys.spawn_in_group(topic, subscriber, messages, caf::actor{waiter}));

  const auto start = courier::bench::clock_type::now();
  for (std::uint64_t i = 0; i < messages; ++i) caf::anon_send(topic, i);
  for (int i = 0; i < courier::bench::workload::fanout_subscribers; ++i) waiter->receive([](done_atom) {});

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = messages * courier::bench::workload::fanout_subscribers;
  for (auto& s : subscribers) caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  return r;
}
