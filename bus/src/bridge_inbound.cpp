#include "binding_state.hpp"

#include "courier/bus/subject.hpp"

namespace courier::detail {
namespace {

/// Settles an inbound message once the bus is done with it: its envelope owns
/// the tracker, so the tracker dies when the last subscriber released the message.
/// A handler that threw reported it through fail() first.
struct settle_tracker final : reply_channel {
  explicit settle_tracker(settle_fn f) : fn{std::move(f)} {}
  settle_tracker(const settle_tracker&) = delete;
  settle_tracker& operator=(const settle_tracker&) = delete;
  ~settle_tracker() {
    // acquire pairs with fail()'s release; the message's last release orders them too.
    if (fn) fn(failed.load(std::memory_order_acquire) ? settle::nak : settle::ack);
  }
  void reply(message_ptr) noexcept override {}
  void fail(const char*) noexcept override { failed.store(true, std::memory_order_release); }

  settle_fn fn;
  std::atomic<bool> failed{false};
};

}  // namespace

void binding_state::on_inbound(wire_message msg, settle_fn ack) {
  counters.bump(counters.received);
  if (msg.header(origin_header) == origin) {
    counters.bump(counters.echoes);
    if (ack) ack(settle::ack);
    return;
  }
  auto decoded = decode_wire(msg, host.codecs(), opts.limits, now());
  if (!decoded) return reject_inbound(msg, decoded.error(), ack);
  message_ptr local = std::move(decoded).value();
  envelope& env = fresh_envelope(local);
  if (is_duplicate(env)) {
    counters.bump(counters.duplicates);
    if (ack) ack(settle::ack);
    return;
  }
  env.headers.emplace_back(origin_header, origin);
  if (!env.reply_to.empty()) return serve_request(local, env.reply_to, std::move(ack));
  auto tracker = std::make_shared<settle_tracker>(std::move(ack));
  env.replies = tracker.get();
  env.reply_owner = tracker;
  counters.bump(counters.delivered);
  if (host.publish_message(std::move(local)) != errc::ok) tracker->fail("not accepted locally");
}

void binding_state::reject_inbound(const wire_message& msg, errc reason, const settle_fn& ack) {
  counters.bump(counters.of(reason));
  envelope env;
  env.id = uuid::v7();
  env.subject = validate_subject(msg.subject) == errc::ok && reason != errc::invalid_subject ? msg.subject : "_invalid";
  env.timestamp = host.sys().timers().now();
  // A message over the limits is dead-lettered without its payload and headers:
  // keeping them would hold on to exactly what the limits refuse.
  wire_message kept = reason == errc::too_large ? wire_message{msg.subject.substr(0, opts.limits.max_subject_bytes),
                                                               msg.reply_to.substr(0, opts.limits.max_subject_bytes), {}, {}}
                                                : msg;
  host.dead_letter(message_ptr::adopt(new bus_message<wire_message>(std::move(env), std::move(kept))), to_string(reason));
  if (ack) ack(settle::term);
}

bool binding_state::is_duplicate(const envelope& env) {
  if (!dedupe) return false;
  std::lock_guard lock{dedupe_mutex};
  return !dedupe->insert(env.id, host.sys().timers().now());
}

}  // namespace courier::detail
