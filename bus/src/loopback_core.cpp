#include "loopback_core.hpp"

#include "courier/bus/subject.hpp"

namespace courier::detail {

void loopback_core::post(loopback_item item) {
  {
    std::lock_guard lock{mutex};
    queue.push_back(std::move(item));
    if (pumping) return;  // the pumping thread delivers it, in order
    pumping = true;
  }
  pump();
}

void loopback_core::pump() {
  std::unique_lock lock{mutex};
  while (!queue.empty()) {
    loopback_item item = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    deliver(item);
    lock.lock();
  }
  pumping = false;
}

std::shared_ptr<loopback_request> loopback_core::take_inbox(const std::string& inbox) {
  std::lock_guard lock{mutex};
  auto it = inboxes.find(inbox);
  if (it == inboxes.end()) return nullptr;
  auto req = std::move(it->second);
  inboxes.erase(it);
  return req;
}

bool loopback_core::has_subscriber(std::string_view subject) {
  std::lock_guard lock{mutex};
  for (const auto& s : subs)
    if (matches(s->pattern, subject)) return true;
  return false;
}

void loopback_core::disconnect(std::uint64_t conn) {
  std::vector<std::shared_ptr<loopback_sub>> mine;
  std::vector<std::shared_ptr<loopback_request>> waiting;
  {
    std::lock_guard lock{mutex};
    std::erase_if(subs, [&](const auto& s) { return s->conn == conn && (mine.push_back(s), true); });
    std::erase_if(inboxes, [&](const auto& kv) { return kv.second->conn == conn && (waiting.push_back(kv.second), true); });
  }
  for (auto& s : mine) {
    std::lock_guard call{s->call_mutex};
    s->active = false;
  }
  for (auto& r : waiting) {
    cfg.timers->cancel(r->timer);
    r->done(errc::disconnected);
  }
}

void loopback_core::deliver(loopback_item& item) {
  if (!item.only) {
    if (auto req = take_inbox(item.msg.subject)) {
      cfg.timers->cancel(req->timer);
      delivered.fetch_add(1, std::memory_order_relaxed);
      return req->done(std::move(item.msg));
    }
  }
  auto to = targets(item);
  if (to.empty()) {
    (item.only ? lost : unrouted).fetch_add(1, std::memory_order_relaxed);
    return;
  }
  for (auto& sub : to) call(sub, item.msg, item.attempt);
}

std::vector<std::shared_ptr<loopback_sub>> loopback_core::targets(const loopback_item& item) {
  std::vector<std::shared_ptr<loopback_sub>> out;
  std::lock_guard lock{mutex};
  if (item.only) {
    if (std::find(subs.begin(), subs.end(), item.only) != subs.end()) return {item.only};
    if (item.only->group.empty()) return {};
  }
  std::vector<std::string> groups_done;
  for (const auto& s : subs) {
    if (item.only ? (s->group != item.only->group || s->pattern != item.only->pattern)
                  : !matches(s->pattern, item.msg.subject))
      continue;
    if (s->group.empty()) {
      out.push_back(s);
      continue;
    }
    std::string key = s->pattern + '\n' + s->group;
    if (std::find(groups_done.begin(), groups_done.end(), key) != groups_done.end()) continue;
    std::vector<std::shared_ptr<loopback_sub>> members;
    for (const auto& m : subs)
      if (m->group == s->group && m->pattern == s->pattern) members.push_back(m);
    out.push_back(members[cursors[key]++ % members.size()]);
    groups_done.push_back(std::move(key));
  }
  return out;
}

void loopback_core::call(const std::shared_ptr<loopback_sub>& sub, const wire_message& msg, std::uint32_t attempt) {
  std::lock_guard call{sub->call_mutex};
  if (!sub->active) return on_nak(sub, msg, attempt - 1);  // cancelled meanwhile: not a delivery
  delivered.fetch_add(1, std::memory_order_relaxed);
  if (attempt > 1) redelivered.fetch_add(1, std::memory_order_relaxed);
  std::weak_ptr<loopback_core> weak = weak_from_this();
  sub->sink(msg, [weak, sub, msg, attempt](settle how) {
    if (how != settle::nak) return;
    if (auto core = weak.lock()) core->on_nak(sub, msg, attempt);
  });
}

void loopback_core::on_nak(const std::shared_ptr<loopback_sub>& sub, wire_message msg, std::uint32_t attempt) {
  if (attempt >= cfg.max_deliveries) {
    given_up.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string next = std::to_string(attempt + 1);
  bool found = false;
  for (auto& [k, v] : msg.headers)
    if (k == wire_header::attempt) v = next, found = true;
  if (!found) msg.headers.emplace_back(wire_header::attempt, next);
  post(loopback_item{std::move(msg), sub, attempt + 1});
}

}  // namespace courier::detail
