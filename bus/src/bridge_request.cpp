#include "binding_state.hpp"

namespace courier::detail {
namespace {

constexpr std::size_t max_error_text = 1024;

errc errc_named(std::string_view name) noexcept {
  for (int i = 1; i < 64; ++i)
    if (name == to_string(static_cast<errc>(i))) return static_cast<errc>(i);
  return errc::handler_failed;
}

/// Sends the answer to an inbound request back over the bridge, once; then
/// settles the request message when the bus lets go of it.
struct reply_sender final : reply_channel {
  reply_sender(std::weak_ptr<binding_state> b, std::string to, const envelope& request, settle_fn f)
      : binding{std::move(b)}, reply_to{std::move(to)}, request_id{request.id},
        correlation{request.correlation_id}, ack{std::move(f)} {}
  reply_sender(const reply_sender&) = delete;
  reply_sender& operator=(const reply_sender&) = delete;
  ~reply_sender() {
    if (ack) ack(settle::ack);
  }

  void reply(message_ptr response) noexcept override {
    auto st = binding.lock();
    if (!st || sent.exchange(true, std::memory_order_acq_rel)) return;
    wire_message w;
    if (encode_wire(*response, reply_envelope(*st), st->host.codecs(), st->now(), w) != errc::ok) {
      st->counters.bump(st->counters.unencodable);
      return send(*st, error_reply(errc::handler_failed, "the reply's type has no codec"));
    }
    send(*st, std::move(w));
  }
  void fail(const char* what) noexcept override { send_error(errc::handler_failed, what); }

  void send_error(errc why, std::string_view text) noexcept {
    auto st = binding.lock();
    if (!st || sent.exchange(true, std::memory_order_acq_rel)) return;
    send(*st, error_reply(why, text));
  }

 private:
  [[nodiscard]] envelope reply_envelope(const binding_state& st) const {
    envelope env;
    env.id = uuid::v7();
    env.correlation_id = correlation;
    env.causation_id = request_id;
    env.subject = reply_to;
    env.timestamp = st.host.sys().timers().now();
    return env;
  }
  [[nodiscard]] wire_message error_reply(errc why, std::string_view text) const {
    wire_message w{reply_to, {}, {}, {}};
    w.headers.emplace_back(wire_header::id, uuid::v7().to_string());
    w.headers.emplace_back(wire_header::correlation_id, correlation.to_string());
    w.headers.emplace_back(wire_header::causation_id, request_id.to_string());
    w.headers.emplace_back(wire_header::error, to_string(why));
    w.headers.emplace_back(wire_header::error_text, text.substr(0, max_error_text));
    return w;
  }
  static void send(binding_state& st, wire_message w) noexcept {
    if (st.bridge->publish(std::move(w)) == errc::ok) st.counters.bump(st.counters.sent);
    else st.counters.bump(st.counters.publish_failed);
  }

  std::weak_ptr<binding_state> binding;
  std::string reply_to;
  uuid request_id, correlation;
  settle_fn ack;
  std::atomic<bool> sent{false};  // exchange: exactly one of reply, fail and send_error answers
};

void expire_now(const std::shared_ptr<request_base>& pending, errc why, const char* text) {
  pending->timers->cancel(pending->timer);
  pending->expire(why, text);
}

void complete(const std::weak_ptr<binding_state>& weak, const std::shared_ptr<request_base>& pending,
              result<wire_message> r) {
  if (!r) return expire_now(pending, r.error(), "");
  const wire_message& w = r.value();
  if (w.has_header(wire_header::error)) {
    std::string text{w.header(wire_header::error_text).substr(0, max_error_text)};
    return expire_now(pending, errc_named(w.header(wire_header::error)), text.c_str());
  }
  auto st = weak.lock();
  if (!st) return expire_now(pending, errc::cancelled, "the binding is gone");
  auto decoded = decode_wire(w, st->host.codecs(), st->opts.limits, st->now());
  if (!decoded) {
    st->counters.bump(st->counters.of(decoded.error()));
    std::string text = std::string{"undecodable reply: "} + to_string(decoded.error());
    return expire_now(pending, errc::handler_failed, text.c_str());
  }
  pending->reply(std::move(decoded).value());
}

}  // namespace

void binding_state::on_request(const message_ptr& msg, const std::shared_ptr<request_base>& pending) {
  if (came_from_here(*msg)) return expire_now(pending, errc::no_responders, "");
  wire_message w;
  if (encode_wire(*msg, host.codecs(), now(), w) != errc::ok) {
    counters.bump(counters.unencodable);
    return expire_now(pending, errc::unknown_type, "the request's type has no codec");
  }
  w.reply_to.clear();  // the bridge makes its own reply subject
  w.headers.emplace_back(origin_header, origin);
  const envelope* env = envelope_of(*msg);
  if (env == nullptr || !env->deadline) return expire_now(pending, errc::timeout, "");  // bus requests have both
  duration timeout = *env->deadline - host.sys().timers().now();
  counters.bump(counters.requests_sent);
  bridge->request(std::move(w), timeout,
                  [weak = weak_from_this(), pending](result<wire_message> r) { complete(weak, pending, std::move(r)); });
}

void binding_state::serve_request(const message_ptr& msg, std::string reply_to, settle_fn ack) {
  envelope& env = fresh_envelope(msg);
  auto sender = std::make_shared<reply_sender>(weak_from_this(), std::move(reply_to), env, std::move(ack));
  env.replies = sender.get();
  env.reply_owner = sender;
  counters.bump(counters.requests_served);
  if (errc e = host.request_message(msg); e != errc::ok) sender->send_error(e, "");
}

}  // namespace courier::detail
