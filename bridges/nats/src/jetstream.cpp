#include <algorithm>
#include <charconv>
#include <thread>
#include <stdexcept>

#include "bridge_state.hpp"
#include "courier/bus/subject.hpp"
#include "nats_wire.hpp"
#include "options.hpp"

namespace courier::nats_detail {
namespace {

std::int64_t ns(duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

/// True when every subject `pattern` can match is matched by `filter` (both NATS patterns).
bool covers(std::string_view filter, std::string_view pattern) noexcept {
  token_view f{filter}, p{pattern};
  auto fi = f.begin(), pi = p.begin();
  for (; fi != f.end(); ++fi, ++pi) {
    if (*fi == ">") return pi != p.end();
    if (pi == p.end() || *pi == ">") return false;
    if (*fi != "*" && *fi != *pi) return false;
    if (*fi == "*" && *pi == "*") continue;
  }
  return pi == p.end();
}

/// 64-bit FNV-1a: stable across builds, so derived durable names survive restarts.
std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// The durable name: the caller's, or the prefix and a stable hash. Members of a queue
/// group share one consumer, so theirs comes from the pattern and group alone; a
/// fan-out subscription's from the connection name, the pattern and how many such
/// subscriptions this bridge made before, so each service keeps its own position.
std::string durable_name(bridge_state& b, std::string_view pattern, const bridge_subscribe_options& o) {
  if (!o.durable.empty()) return o.durable;
  std::string key = std::string{pattern} + '\n';
  if (!o.queue_group.empty()) {
    key += "group\n" + o.queue_group;
  } else {
    key += "name\n" + b.cfg.name;
    std::lock_guard lock{b.subs_mutex};
    key += '\n' + std::to_string(b.durable_uses[key]++);
  }
  return b.cfg.jetstream.durable_prefix + "-" + std::to_string(fnv1a(key));
}

/// Puts the delivery count into Courier-Attempt, so handlers see redeliveries.
void set_attempt(natsMsg* m, wire_message& w) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return;
  const std::string attempt = std::to_string(meta->NumDelivered);
  jsMsgMetaData_Destroy(meta);
  for (auto& [k, v] : w.headers)
    if (k == wire_header::attempt) return void(v = attempt);
  w.headers.emplace_back(wire_header::attempt, attempt);
}

/// Acks, naks or terminates one JetStream delivery, once, while the bridge is open.
settle_fn settler(std::shared_ptr<natsMsg> m, std::shared_ptr<natsSubscription> sub, const bridge_state& b) {
  return [m = std::move(m), sub = std::move(sub), c = b.stats, gate = b.acks](settle how) {
    std::shared_lock lock{gate->mutex};
    if (!gate->open) return;  // closed: the server redelivers after ack_wait
    switch (how) {
      case settle::ack:
        natsMsg_Ack(m.get(), nullptr);
        return counters::bump(c->acked);
      case settle::nak:
        natsMsg_Nak(m.get(), nullptr);
        return counters::bump(c->naked);
      case settle::term:
        natsMsg_Term(m.get(), nullptr);
        return counters::bump(c->terminated);
    }
  };
}

/// Creates the durable push consumer unless it exists. Created here rather than by
/// js_Subscribe, which would delete it again on unsubscribe.
errc ensure_consumer(bridge_state& b, const std::string& filter, const std::string& durable,
                     const std::string& group) {
  const nats_jetstream& j = b.cfg.jetstream;
  jsConsumerInfo* info = nullptr;
  jsErrCode jerr{};
  if (js_GetConsumerInfo(&info, b.js, j.stream.c_str(), durable.c_str(), nullptr, &jerr) == NATS_OK) {
    jsConsumerInfo_Destroy(info);
    return errc::ok;
  }
  const std::string deliver = "_COURIER.deliver." + j.stream + "." + durable;
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.DeliverSubject = deliver.c_str();
  cc.DeliverGroup = group.empty() ? nullptr : group.c_str();
  cc.FilterSubject = filter.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = ns(j.ack_wait);
  cc.MaxDeliver = j.max_deliver;
  const natsStatus st = js_AddConsumer(&info, b.js, j.stream.c_str(), &cc, nullptr, &jerr);
  if (st != NATS_OK) return to_errc(st);
  jsConsumerInfo_Destroy(info);
  return errc::ok;
}

}  // namespace

void setup_stream(bridge_state& b) {
  const nats_jetstream& j = b.cfg.jetstream;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = std::chrono::duration_cast<std::chrono::milliseconds>(j.publish_timeout).count();
  check(natsConnection_JetStream(&b.js, b.nc, &jo), "jetstream");
  std::vector<const char*> subjects;
  for (const auto& s : j.subjects) subjects.push_back(s.c_str());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = j.stream.c_str();
  sc.Subjects = subjects.data();
  sc.SubjectsLen = static_cast<int>(subjects.size());
  sc.Duplicates = ns(j.duplicate_window);
  sc.Storage = j.memory_storage ? js_MemoryStorage : js_FileStorage;
  jsErrCode jerr{};
  natsStatus s = js_AddStream(nullptr, b.js, &sc, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) s = js_UpdateStream(nullptr, b.js, &sc, nullptr, &jerr);
  check(s, "stream");
}

bool in_stream(const bridge_state& b, std::string_view subject) noexcept {
  for (const auto& s : b.cfg.jetstream.subjects)
    if (covers(s, subject)) return true;
  return false;
}

errc js_publish(bridge_state& b, natsMsg* m, std::string_view msg_id) noexcept {
  const std::string id{msg_id};
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.empty() ? nullptr : id.c_str();
  const auto deadline = std::chrono::steady_clock::now() + b.cfg.jetstream.publish_timeout;
  for (;;) {
    po.MaxWait = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                               deadline - std::chrono::steady_clock::now())
                                               .count());
    jsPubAck* ack = nullptr;
    jsErrCode jerr{};
    const natsStatus s = js_PublishMsg(&ack, b.js, m, &po, &jerr);
    if (s == NATS_OK) {
      counters::bump(ack->Duplicate ? b.stats->duplicates : b.stats->published);
      jsPubAck_Destroy(ack);
      return errc::ok;
    }
    // Not stored (disconnected, or JetStream not back yet after a restart): send
    // again until the deadline. The same Nats-Msg-Id makes a repeat harmless.
    if (b.closed.load(std::memory_order_acquire) || std::chrono::steady_clock::now() >= deadline || jerr != 0) {
      counters::bump(b.stats->rejected);
      return s == NATS_TIMEOUT ? errc::timeout : errc::disconnected;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // retry interval while reconnecting
  }
}

result<natsSubscription*> js_subscribe(bridge_state& b, std::string_view pattern,
                                       const bridge_subscribe_options& opts, sub_state* s) {
  const nats_jetstream& j = b.cfg.jetstream;
  const std::string subject{pattern}, durable = durable_name(b, pattern, opts);
  if (const errc e = ensure_consumer(b, subject, durable, opts.queue_group); e != errc::ok) return e;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = j.stream.c_str();
  so.Consumer = durable.c_str();  // bind, so unsubscribing never deletes the durable consumer
  so.ManualAck = true;
  so.Queue = opts.queue_group.empty() ? nullptr : opts.queue_group.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode jerr{};
  const natsStatus st = js_Subscribe(&sub, b.js, subject.c_str(), on_js_msg, s, nullptr, &so, &jerr);
  if (st != NATS_OK) return to_errc(st);
  return sub;
}

void on_js_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  std::shared_ptr<natsMsg> owned{m, natsMsg_Destroy};
  auto* s = static_cast<sub_state*>(closure);
  std::lock_guard lock{s->gate};
  if (!s->live) {
    natsMsg_Nak(m, nullptr);  // cancelled: hand it back now rather than after ack_wait
    return;
  }
  auto& stats = s->owner->stats;
  wire_message w;
  if (from_nats(m, w) != errc::ok) {
    natsMsg_Term(m, nullptr);
    return counters::bump(stats->terminated);
  }
  w.reply_to.clear();  // the $JS.ACK subject, for settle; not a reply subject for the bus
  set_attempt(m, w);
  counters::bump(stats->received);
  s->sink(std::move(w), settler(std::move(owned), s->sub, *s->owner));
}

}  // namespace courier::nats_detail
