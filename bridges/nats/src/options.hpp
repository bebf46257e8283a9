// Turns a nats_config into nats.c options.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "courier/bridge/nats/config.hpp"

namespace courier::nats_detail {

struct options_deleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
using options_ptr = std::unique_ptr<natsOptions, options_deleter>;

/// Callbacks nats.c runs on its own threads; `closure` is passed back.
struct connection_callbacks {
  natsConnectionHandler disconnected = nullptr;
  natsConnectionHandler reconnected = nullptr;
  natsConnectionHandler closed = nullptr;
  natsErrHandler error = nullptr;
  void* closure = nullptr;
};

/// nats.c options for `cfg`; throws std::invalid_argument naming the setting nats.c refused.
options_ptr make_options(const nats_config& cfg, const connection_callbacks& cb);

/// Throws std::runtime_error with nats.c's text when `s` is not NATS_OK.
inline void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string{"nats: "} + what + ": " + natsStatus_GetText(s));
}

}  // namespace courier::nats_detail
