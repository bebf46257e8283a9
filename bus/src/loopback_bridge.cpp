#include "courier/bus/loopback_bridge.hpp"

#include "courier/bus/subject.hpp"
#include "loopback_core.hpp"

namespace courier {

loopback_bridge::loopback_bridge(std::shared_ptr<detail::loopback_core> core, std::uint64_t conn) noexcept
    : core_{std::move(core)}, conn_{conn} {}

loopback_bridge::~loopback_bridge() { close(); }

errc loopback_bridge::publish(const wire_message& msg) noexcept {
  if (closed_.load(std::memory_order_acquire)) return errc::disconnected;
  if (validate_subject(msg.subject) != errc::ok) return errc::invalid_subject;
  try {
    core_->published.fetch_add(1, std::memory_order_relaxed);
    core_->post(detail::loopback_item{msg, nullptr, 1});
    return errc::ok;
  } catch (...) {
    return errc::too_large;  // only allocation can fail here
  }
}

result<bridge_subscription> loopback_bridge::subscribe(std::string_view pattern, wire_sink sink,
                                                       bridge_subscribe_options opts) {
  if (closed_.load(std::memory_order_acquire)) return errc::disconnected;
  if (validate_pattern(pattern) != errc::ok) return errc::invalid_subject;
  auto sub = std::make_shared<detail::loopback_sub>();
  sub->conn = conn_;
  sub->pattern = pattern;
  sub->group = std::move(opts.queue_group);
  sub->sink = std::move(sink);
  {
    std::lock_guard lock{core_->mutex};
    sub->id = core_->next_id++;
    core_->subs.push_back(sub);
  }
  std::weak_ptr<detail::loopback_core> weak = core_;
  return bridge_subscription{[weak, sub] {
    if (auto core = weak.lock()) {
      std::lock_guard lock{core->mutex};
      std::erase(core->subs, sub);
    }
    std::lock_guard call{sub->call_mutex};  // waits for a running call, unless it is this thread's
    sub->active = false;
  }};
}

void loopback_bridge::request(wire_message msg, duration timeout, wire_reply_fn done) {
  if (closed_.load(std::memory_order_acquire)) return done(errc::disconnected);
  if (validate_subject(msg.subject) != errc::ok) return done(errc::invalid_subject);
  if (!core_->has_subscriber(msg.subject)) return done(errc::no_responders);
  auto req = std::make_shared<detail::loopback_request>();
  req->conn = conn_;
  req->done = std::move(done);
  {
    std::lock_guard lock{core_->mutex};
    msg.reply_to = "_INBOX.loopback." + std::to_string(core_->next_id++);
    core_->inboxes.emplace(msg.reply_to, req);
    // Started under the lock so a reply cannot look for the timer before it exists;
    // timer callbacks never run inside start_after, so this cannot deadlock.
    std::weak_ptr<detail::loopback_core> weak = core_;
    req->timer = core_->cfg.timers->start_after(timeout, [weak, inbox = msg.reply_to] {
      if (auto core = weak.lock())
        if (auto r = core->take_inbox(inbox)) r->done(errc::timeout);
    });
  }
  core_->published.fetch_add(1, std::memory_order_relaxed);
  core_->post(detail::loopback_item{std::move(msg), nullptr, 1});
}

errc loopback_bridge::flush(duration) noexcept {
  // publish() hands each message to the broker before it returns.
  return closed_.load(std::memory_order_acquire) ? errc::disconnected : errc::ok;
}

void loopback_bridge::close() noexcept {
  // exchange: exactly one close() disconnects; acq_rel pairs with the loads in the other calls.
  if (!closed_.exchange(true, std::memory_order_acq_rel)) core_->disconnect(conn_);
}

bridge_features loopback_bridge::features() const noexcept {
  return bridge_features{.persistent = false, .ordered = true, .consumer_groups = true, .native_dedupe = false,
                         .redelivery = true};
}

std::shared_ptr<loopback_broker> loopback_broker::make(loopback_config cfg) {
  return std::make_shared<loopback_broker>(cfg);
}

loopback_broker::loopback_broker(loopback_config cfg) {
  if (cfg.timers == nullptr) throw std::invalid_argument("loopback_broker needs cfg.timers for request timeouts");
  if (cfg.max_deliveries == 0) cfg.max_deliveries = 1;
  core_ = std::make_shared<detail::loopback_core>(cfg);
}

std::shared_ptr<loopback_bridge> loopback_broker::connect() {
  std::uint64_t conn = 0;
  {
    std::lock_guard lock{core_->mutex};
    conn = core_->next_id++;
  }
  return std::make_shared<loopback_bridge>(core_, conn);
}

loopback_stats loopback_broker::stats() const noexcept {
  auto n = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  const auto& c = *core_;
  return loopback_stats{n(c.published), n(c.delivered), n(c.redelivered), n(c.given_up), n(c.lost), n(c.unrouted)};
}

}  // namespace courier
