#pragma once

#include <caf/all.hpp>

#include "harness.hpp"

namespace courier::bench {

/// A CAF actor system set up as every peer benchmark runs it: its
/// scheduler gets as many threads as Courier's pool has workers, so both
/// runtimes compete for the same cores.
class caf_runtime {
 public:
  caf_runtime() : sys{configured(cfg_)} {}

 private:
  static caf::actor_system_config& configured(caf::actor_system_config& cfg) {
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(workers));
    return cfg;
  }
  caf::actor_system_config cfg_;  // declared before sys: it must outlive it

 public:
  caf::actor_system sys;
};

}  // namespace courier::bench
