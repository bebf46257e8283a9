#include "caf_support.hpp"

namespace {

using wake_atom = caf::atom_constant<caf::atom("wake")>;

caf::behavior sleeper() {
  return {[](wake_atom) { return wake_atom::value; }};
}

}  // namespace

COURIER_BENCH("idle_cpu", "caf") {
  courier::bench::caf_runtime caf;
  caf::scoped_actor waiter{caf.sys};
  auto actor = caf.sys.spawn(sleeper);
  waiter->request(actor, caf::infinite, wake_atom::value).receive([](wake_atom) {},
                                                                    [](caf::error&) {});
  return courier::bench::measure_idle_cpu(opts);
}
