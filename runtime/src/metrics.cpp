// Reading a system's metrics: summing the per-thread shards into a snapshot,
// and writing a snapshot in the Prometheus exposition format.
#include "courier/runtime/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "courier/runtime/detail/metrics_registry.hpp"
#include "courier/runtime/detail/system_core.hpp"

namespace courier {
namespace {

void add(actor_metrics& to, const detail::type_counters& c) {
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  to.restarts += get(c.restarts);
  for (std::size_t r = 0; r < c.dead.size(); ++r) to.dead_letters.by_reason[r] += get(c.dead[r]);
  c.handler_ns.add_to(to.handler_ns);
}

void add_to_total(actor_metrics& total, const actor_metrics& t) {
  total.handled += t.handled;
  total.mailbox_depth += t.mailbox_depth;
  total.mailbox_depth_max = std::max(total.mailbox_depth_max, t.mailbox_depth_max);
  total.restarts += t.restarts;
  total.handler_ns.merge(t.handler_ns);
}

// Per-message counts come from the actors themselves (system_core), the rest
// from the per-thread shards.
std::vector<actor_metrics> sum_types(const detail::system_core& core, const detail::metrics_registry& reg) {
  std::map<std::uint32_t, actor_metrics> by_index;
  const auto cells = core.sum_cell_counters();
  for (std::uint32_t i = 1; i < cells.size(); ++i) {
    const auto& c = cells[i];
    if (c.handled == 0 && c.depth == 0 && c.depth_max == 0) continue;
    actor_metrics& m = by_index[i];
    m.handled = c.handled;
    m.mailbox_depth = c.depth;
    m.mailbox_depth_max = c.depth_max;
  }
  reg.for_each_shard([&](const detail::metrics_shard& shard) {
    for (std::uint32_t i = 1; i <= detail::max_actor_types; ++i)
      if (const detail::type_counters* c = shard.peek(i)) add(by_index[i], *c);
  });
  std::vector<actor_metrics> out;
  out.reserve(by_index.size());
  for (auto& [index, m] : by_index) {
    m.type = detail::actor_type_name(index);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.type < b.type; });
  return out;
}

using kind = prometheus_writer::kind;

void write_system(prometheus_writer& w, const metrics_snapshot& s) {
  w.family("courier_actors_spawned_total", kind::counter, "Actors spawned so far.");
  w.sample({}, s.spawned);
  w.family("courier_actors_live", kind::gauge, "Actor cells still allocated.");
  w.sample({}, s.live_actors);
  w.family("courier_timers_pending", kind::gauge, "Timers started and neither fired nor cancelled.");
  w.sample({}, s.timers_pending);
  w.family("courier_dead_letters_total", kind::counter, "Messages that could not be handled, by reason.");
  for (std::size_t r = 0; r < dead_letter_reason_count; ++r)
    w.sample({{"reason", to_string(static_cast<dead_letter_reason>(r))}}, s.total.dead_letters.by_reason[r]);
}

// One family per figure of actor_metrics: the system total without labels
// (prefix "courier_") or per type with an actor_type label ("courier_actor_").
void write_figures(prometheus_writer& w, const metrics_snapshot& s, bool per_type) {
  const std::string p = per_type ? "courier_actor_" : "courier_";
  const std::string scope = per_type ? " of actors of this type" : " of all actors";
  std::vector<const actor_metrics*> rows;
  if (per_type)
    for (const auto& t : s.types) rows.push_back(&t);
  else
    rows.push_back(&s.total);
  auto labels_of = [&](const actor_metrics& m) {
    return per_type ? std::vector<prometheus_writer::label>{{"actor_type", m.type}}
                    : std::vector<prometheus_writer::label>{};
  };
  auto each = [&](auto&& fn) {
    for (const actor_metrics* m : rows) fn(*m, labels_of(*m));
  };
  w.family(p + "messages_handled_total", kind::counter, "Handler calls" + scope + ".");
  each([&](const actor_metrics& m, const auto& ls) { w.sample(ls, m.handled); });
  w.family(p + "mailbox_depth", kind::gauge, "Messages queued now in the mailboxes" + scope + ".");
  each([&](const actor_metrics& m, const auto& ls) { w.sample(ls, m.mailbox_depth); });
  w.family(p + "mailbox_depth_max", kind::gauge, "Deepest one mailbox" + scope + " was when a message left it.");
  each([&](const actor_metrics& m, const auto& ls) { w.sample(ls, m.mailbox_depth_max); });
  w.family(p + "restarts_total", kind::counter, "Supervised restarts" + scope + ".");
  each([&](const actor_metrics& m, const auto& ls) { w.sample(ls, m.restarts); });
  w.family(p + "handler_seconds", kind::histogram,
           fmt::format("Handler wall time{}, sampled: 1 in {} calls per thread is timed.", scope,
                       s.handler_time_every));
  each([&](const actor_metrics& m, const auto& ls) { w.histogram(ls, m.handler_ns, prometheus_writer::nanosecond_bounds(), 1e-9); });
  if (!per_type) return;
  w.family("courier_actor_dead_letters_total", kind::counter, "Dead letters addressed to actors of this type, by reason.");
  each([&](const actor_metrics& m, auto ls) {
    for (std::size_t r = 0; r < dead_letter_reason_count; ++r) {
      ls.resize(1);
      ls.push_back({"reason", to_string(static_cast<dead_letter_reason>(r))});
      w.sample(ls, m.dead_letters.by_reason[r]);
    }
  });
}

}  // namespace

void write_prometheus(prometheus_writer& w, const metrics_snapshot& s) {
  write_system(w, s);
  if (!s.enabled) return;
  write_figures(w, s, false);
  write_figures(w, s, true);
}

metrics_snapshot metrics_view::snapshot() const {
  metrics_snapshot s;
  s.spawned = core_->spawned.load(std::memory_order_relaxed);
  s.live_actors = core_->live_cells();
  s.timers_pending = core_->timers().pending();
  s.total.dead_letters = core_->dead_letters();
  const detail::metrics_registry* reg = core_->metrics();
  if (reg == nullptr) return s;
  s.enabled = true;
  s.handler_time_every = reg->time_every();
  s.types = sum_types(*core_, *reg);
  for (const auto& t : s.types) add_to_total(s.total, t);
  return s;
}

std::string metrics_view::to_prometheus() const {
  prometheus_writer w;
  write_prometheus(w, snapshot());
  return std::move(w).take();
}

}  // namespace courier
