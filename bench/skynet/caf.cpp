#include <stdexcept>
#include <string>

#include "caf_support.hpp"

namespace {

constexpr std::uint64_t fan_out = courier::bench::workload::skynet_fan_out;

struct node_state {
  std::uint64_t sum = 0;
  std::uint64_t replies = 0;
};

caf::behavior node(caf::stateful_actor<node_state>* self, caf::actor parent, std::uint64_t num,
                   std::uint64_t size) {
  if (size == 1) {
    self->send(parent, num);
    self->quit();
    return {};
  }
  const auto child_size = size / fan_out;
  for (std::uint64_t i = 0; i < fan_out; ++i)
    self->spawn(node, caf::actor{self}, num + i * child_size, child_size);
  return {[=](std::uint64_t partial) {
    self->state.sum += partial;
    if (++self->state.replies == fan_out) {
      self->send(parent, self->state.sum);
      self->quit();
    }
  }};
}

}  // namespace

COURIER_BENCH("skynet", "caf") {
  const int depth = courier::bench::workload::skynet_depth(opts);
  std::uint64_t leaves = 1;
  std::uint64_t actors = 1;
  for (int level = 0; level < depth; ++level) {
    leaves *= fan_out;
    actors += leaves;
  }
  courier::bench::caf_runtime caf;
  caf::actor_system& sys = caf.sys;
  caf::scoped_actor waiter{sys};

  const auto start = courier::bench::clock_type::now();
  sys.spawn(node, caf::actor{waiter}, std::uint64_t{0}, leaves);
  std::uint64_t sum = 0;
  waiter->receive([&](std::uint64_t total) { sum = total; });

  courier::bench::result r;
  r.seconds = courier::bench::seconds_since(start);
  r.ops = actors;
  if (sum != leaves * (leaves - 1) / 2)
    throw std::runtime_error("skynet/caf: wrong sum " + std::to_string(sum));
  return r;
}
