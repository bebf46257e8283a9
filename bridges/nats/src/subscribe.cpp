#include <algorithm>

#include "bridge_state.hpp"
#include "courier/bridge/nats/nats_bridge.hpp"
#include "courier/bus/subject.hpp"
#include "nats_wire.hpp"

namespace courier {
namespace nats_detail {
namespace {

void on_sub_complete(void* closure) {
  auto* s = static_cast<sub_state*>(closure);
  bridge_state& b = *s->owner;
  std::shared_ptr<sub_state> last;  // released after the lock, its sink may own anything
  std::lock_guard lock{b.subs_mutex};  // notify under it: the waiter may destroy `b` next
  auto it = std::find_if(b.subs.begin(), b.subs.end(), [s](const auto& p) { return p.get() == s; });
  if (it != b.subs.end()) {
    last = std::move(*it);
    b.subs.erase(it);
  }
  b.subs_done.notify_all();
}

}  // namespace

void sub_state::cancel() noexcept {
  std::shared_ptr<natsSubscription> s;
  {
    std::lock_guard lock{gate};
    live = false;
    s = std::exchange(sub, nullptr);
  }
  if (!s) return;
  natsSubscription_Unsubscribe(s.get());
  owner->origins.remove();  // after the UNSUB: later bare messages cannot reach this subscription
}

void bridge_state::track(const std::shared_ptr<sub_state>& s) {
  std::lock_guard lock{subs_mutex};
  subs.push_back(s);
}

void bridge_state::await_subscriptions() {
  std::unique_lock lock{subs_mutex};
  // nats.c reports each subscription complete once its last callback returned;
  // until then the closures it holds must stay alive.
  subs_done.wait_for(lock, std::chrono::seconds{10}, [this] {
    return subs.empty() && inbox_open == 0 && (nc == nullptr || connection_closed);
  });
}

void on_core_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  msg_ptr owned{m};
  auto* s = static_cast<sub_state*>(closure);
  std::lock_guard lock{s->gate};
  if (!s->live) return;
  wire_message w;
  if (from_nats(m, w) != errc::ok) {
    counters::bump(s->owner->stats->rejected);
    return;
  }
  counters::bump(s->owner->stats->received);
  s->sink(std::move(w), settle_fn{});
}

}  // namespace nats_detail

result<bridge_subscription> nats_bridge::subscribe(std::string_view pattern, wire_sink sink,
                                                   bridge_subscribe_options opts) {
  auto& b = *state_;
  if (b.closed.load(std::memory_order_acquire)) return errc::disconnected;
  if (validate_pattern(pattern) != errc::ok) return errc::invalid_subject;
  auto s = std::make_shared<nats_detail::sub_state>();
  s->owner = &b;
  s->sink = std::move(sink);
  s->jetstream = b.js != nullptr && nats_detail::in_stream(b, pattern);
  const std::string subject{pattern};
  b.origins.add();
  // Messages sent without Courier-Origin, some perhaps still in nats.c's
  // reconnect buffer, reach the server before this subscription does.
  if (b.js == nullptr)
    if (const natsStatus st = natsConnection_FlushTimeout(b.nc, 5000); st != NATS_OK) {
      b.origins.remove();
      return nats_detail::to_errc(st);
    }
  natsSubscription* sub = nullptr;
  if (s->jetstream) {
    auto r = nats_detail::js_subscribe(b, pattern, opts, s.get());
    if (!r) {
      b.origins.remove();
      return r.error();
    }
    sub = r.value();
  } else {
    const natsStatus st =
        opts.queue_group.empty()
            ? natsConnection_Subscribe(&sub, b.nc, subject.c_str(), nats_detail::on_core_msg, s.get())
            : natsConnection_QueueSubscribe(&sub, b.nc, subject.c_str(), opts.queue_group.c_str(),
                                            nats_detail::on_core_msg, s.get());
    if (st != NATS_OK) {
      b.origins.remove();
      return nats_detail::to_errc(st);
    }
  }
  {
    std::lock_guard lock{s->gate};
    s->sub = std::shared_ptr<natsSubscription>(sub, natsSubscription_Destroy);
  }
  b.track(s);
  if (natsSubscription_SetOnCompleteCB(sub, nats_detail::on_sub_complete, s.get()) != NATS_OK) {
    s->cancel();
    return errc::disconnected;
  }
  // Waits for the server to register the interest, so a publish right after
  // subscribe() returns is not missed.
  if (const natsStatus st = natsConnection_FlushTimeout(b.nc, 5000); st != NATS_OK) {
    s->cancel();
    return nats_detail::to_errc(st);
  }
  return bridge_subscription{[weak = std::weak_ptr<nats_detail::sub_state>(s)] {
    if (auto locked = weak.lock()) locked->cancel();
  }};
}

}  // namespace courier
