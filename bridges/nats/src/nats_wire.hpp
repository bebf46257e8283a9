// Converts between the bus's wire_message and nats.c's natsMsg.
#pragma once

#include <nats/nats.h>

#include <memory>

#include "courier/bus/wire.hpp"

namespace courier::nats_detail {

struct msg_deleter {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using msg_ptr = std::unique_ptr<natsMsg, msg_deleter>;

/// A natsMsg carrying `w`'s subject, reply subject, headers (in order, less
/// Courier-Origin when `drop_origin`) and payload. errc::bad_message when a
/// header name or value past the encoder's own (wire_message::encoder_headers)
/// could not travel as a NATS header line (empty name, ':' or whitespace in the
/// name, CR, LF or NUL anywhere).
errc to_nats(const wire_message& w, msg_ptr& out, bool drop_origin = false) noexcept;

/// Copies untrusted `m` into `out` as it is (the bus checks limits and decodes);
/// errc::bad_message when its headers cannot be read. Never throws.
errc from_nats(natsMsg* m, wire_message& out) noexcept;

}  // namespace courier::nats_detail
