// The conformance suite against the in-memory loopback broker.

#include "bridges/conformance.hpp"

#include <courier/bus/loopback_bridge.hpp>

namespace {

/// A fresh broker per case, with its own real-time timers for request timeouts.
courier::conformance::target loopback_target() {
  struct world {
    courier::real_time_timers timers;
    std::shared_ptr<courier::loopback_broker> broker = courier::loopback_broker::make({.timers = &timers});
  };
  auto w = std::make_shared<world>();
  return {.name = "loopback",
          .connect = [w](courier::system&) -> std::shared_ptr<courier::bridge> { return w->broker->connect(); },
          .features = w->broker->connect()->features()};
}

}  // namespace

COURIER_BRIDGE_CONFORMANCE(loopback_target)
