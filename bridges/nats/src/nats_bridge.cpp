#include "courier/bridge/nats/nats_bridge.hpp"

#include <charconv>
#include <stdexcept>

#include "bridge_state.hpp"
#include "nats_wire.hpp"
#include "options.hpp"

namespace courier {
namespace nats_detail {
namespace {

void on_disconnected(natsConnection*, void* closure) {
  counters::bump(static_cast<bridge_state*>(closure)->stats->disconnects);
}
void on_reconnected(natsConnection*, void* closure) {
  counters::bump(static_cast<bridge_state*>(closure)->stats->reconnects);
}
/// nats.c's last callback for a connection; the state may go once it ran.
void on_closed(natsConnection*, void* closure) {
  auto& b = *static_cast<bridge_state*>(closure);
  // Notified under the lock: once the waiter sees the flag it may destroy the state.
  std::lock_guard lock{b.subs_mutex};
  b.connection_closed = true;
  b.subs_done.notify_all();
}

/// Replies arrive on `<inbox>.<token>`; a 503 status means nobody served the subject.
void on_reply(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  auto& b = *static_cast<bridge_state*>(closure);
  msg_ptr owned{m};
  const std::string_view subject = natsMsg_GetSubject(m);
  std::uint64_t token = 0;
  const auto digits = subject.substr(std::min(subject.size(), b.inbox.size() + 1));
  if (std::from_chars(digits.data(), digits.data() + digits.size(), token).ec != std::errc{}) return;
  bool pending = false;
  if (natsMsg_IsNoResponders(m)) {
    pending = b.requests.complete(token, errc::no_responders);
  } else {
    wire_message w;
    const errc e = from_nats(m, w);
    pending = e == errc::ok ? b.requests.complete(token, std::move(w)) : b.requests.complete(token, e);
  }
  if (!pending) counters::bump(b.stats->late_replies);
}

void on_inbox_complete(void* closure) {
  auto& b = *static_cast<bridge_state*>(closure);
  std::lock_guard lock{b.subs_mutex};  // notify under it, as on_closed does
  --b.inbox_open;
  b.subs_done.notify_all();
}

void connect(bridge_state& b) {
  const connection_callbacks cb{
      .disconnected = on_disconnected, .reconnected = on_reconnected, .closed = on_closed, .closure = &b};
  auto opts = make_options(b.cfg, cb);
  check(natsConnection_Connect(&b.nc, opts.get()), "connect");
  char* inbox = nullptr;
  check(natsInbox_Create(&inbox), "inbox");
  b.inbox = inbox;
  natsInbox_Destroy(inbox);
  check(natsConnection_Subscribe(&b.inbox_sub, b.nc, (b.inbox + ".*").c_str(), on_reply, &b), "inbox");
  check(natsSubscription_SetOnCompleteCB(b.inbox_sub, on_inbox_complete, &b), "inbox");
  b.inbox_open = 1;
}

}  // namespace

errc to_errc(natsStatus s) noexcept {
  switch (s) {
    case NATS_OK:
      return errc::ok;
    case NATS_TIMEOUT:
      return errc::timeout;
    case NATS_NO_RESPONDERS:
      return errc::no_responders;
    case NATS_MAX_PAYLOAD:
      return errc::too_large;
    case NATS_INVALID_SUBJECT:
      return errc::invalid_subject;
    case NATS_INSUFFICIENT_BUFFER:
      return errc::mailbox_full;
    default:
      return errc::disconnected;
  }
}

nats_bridge_stats counters::snapshot() const noexcept {
  auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  return {.published = get(published), .dropped = get(dropped), .rejected = get(rejected),
          .duplicates = get(duplicates), .received = get(received), .acked = get(acked),
          .naked = get(naked), .terminated = get(terminated), .disconnects = get(disconnects),
          .reconnects = get(reconnects), .late_replies = get(late_replies)};
}

namespace {

/// Publishes `msg` over core NATS, or JetStream for a stream subject.
errc send(bridge_state& b, const wire_message& msg, bool drop_origin) noexcept {
  msg_ptr m;
  if (const errc e = to_nats(msg, m, drop_origin); e != errc::ok) {
    counters::bump(b.stats->rejected);
    return e;
  }
  if (b.js != nullptr && msg.reply_to.empty() && in_stream(b, msg.subject))
    return js_publish(b, m.get(), msg.header(wire_header::id));
  const natsStatus s = natsConnection_PublishMsg(b.nc, m.get());
  b.retired.retire(m.release());
  if (s == NATS_OK) {
    counters::bump(b.stats->published);
    return errc::ok;
  }
  if (s == NATS_INSUFFICIENT_BUFFER && b.cfg.overflow == nats_overflow::drop_newest) {
    counters::bump(b.stats->dropped);
    return errc::ok;
  }
  counters::bump(b.stats->rejected);
  return to_errc(s);
}

}  // namespace

}  // namespace nats_detail

using nats_detail::counters;

nats_bridge::nats_bridge(nats_config cfg) : state_{std::make_unique<nats_detail::bridge_state>()} {
  state_->cfg = std::move(cfg);
  if (state_->cfg.jetstream.enabled && state_->cfg.jetstream.subjects.empty())
    throw std::invalid_argument("nats_config: jetstream.subjects is empty");
  try {
    nats_detail::connect(*state_);
    if (state_->cfg.jetstream.enabled) nats_detail::setup_stream(*state_);
  } catch (...) {
    close();
    state_->await_subscriptions();
    natsConnection_Destroy(state_->nc);
    throw;
  }
}

nats_bridge::~nats_bridge() {
  close();
  state_->await_subscriptions();
  jsCtx_Destroy(state_->js);
  natsConnection_Destroy(state_->nc);
}

errc nats_bridge::publish(const wire_message& msg) noexcept {
  auto& b = *state_;
  if (b.closed.load(std::memory_order_acquire)) return errc::disconnected;
  // JetStream delivers stored messages to consumers made later: they keep the header.
  if (b.js != nullptr || !b.origins.begin_bare()) return nats_detail::send(b, msg, false);
  const errc e = nats_detail::send(b, msg, true);
  b.origins.end_bare();
  return e;
}

void nats_bridge::request(wire_message msg, duration timeout, wire_reply_fn done) {
  auto& b = *state_;
  if (b.closed.load(std::memory_order_acquire)) return done(errc::disconnected);
  const std::uint64_t token = b.requests.add(std::move(done), timeout);
  msg.reply_to = b.inbox + "." + std::to_string(token);
  nats_detail::msg_ptr m;
  errc e = nats_detail::to_nats(msg, m);
  if (e == errc::ok) e = nats_detail::to_errc(natsConnection_PublishMsg(b.nc, m.get()));
  if (m) b.retired.retire(m.release());
  if (e != errc::ok) b.requests.complete(token, e);
}

errc nats_bridge::flush(duration timeout) noexcept {
  if (state_->closed.load(std::memory_order_acquire)) return errc::disconnected;
  state_->retired.drain();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return nats_detail::to_errc(natsConnection_FlushTimeout(state_->nc, std::max<std::int64_t>(ms, 1)));
}

void nats_bridge::close() noexcept {
  auto& b = *state_;
  if (b.closed.exchange(true, std::memory_order_acq_rel)) return;
  {
    std::lock_guard lock{b.acks->mutex};  // waits for settles in progress; later ones skip nats.c
    b.acks->open = false;
  }
  std::vector<std::shared_ptr<nats_detail::sub_state>> subs;
  {
    std::lock_guard lock{b.subs_mutex};
    subs = b.subs;
  }
  for (auto& s : subs) s->cancel();
  if (b.inbox_sub != nullptr) {
    natsSubscription_Unsubscribe(b.inbox_sub);
    natsSubscription_Destroy(b.inbox_sub);
  }
  b.requests.fail_all(errc::disconnected);
  if (b.nc != nullptr) natsConnection_Close(b.nc);
  b.retired.drain();
}

bridge_features nats_bridge::features() const noexcept { return features_of(state_->cfg); }

bridge_features nats_bridge::features_of(const nats_config& cfg) noexcept {
  const bool js = cfg.jetstream.enabled;
  return {.persistent = js, .ordered = true, .consumer_groups = true, .native_dedupe = js, .redelivery = js};
}

nats_bridge_stats nats_bridge::stats() const noexcept { return state_->stats->snapshot(); }

bool nats_bridge::connected() const noexcept {
  return state_->nc != nullptr && natsConnection_Status(state_->nc) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace courier
