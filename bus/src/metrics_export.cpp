// Writing a bus's metrics in the Prometheus exposition format.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "courier/bus/metrics.hpp"

namespace courier {
namespace {

using kind = prometheus_writer::kind;
using label = prometheus_writer::label;

/// Each overflow policy's name, with the count it turned away.
std::array<std::pair<std::string_view, std::uint64_t>, 5> drops_by_reason(const drop_counts& d) {
  return {{{"drop_newest", d.newest},
           {"drop_oldest", d.oldest},
           {"reject", d.rejected},
           {"block_timeout", d.timed_out},
           {"dead_letter", d.dead_lettered}}};
}

void write_totals(prometheus_writer& w, const bus_metrics& m) {
  w.family("courier_bus_published_total", kind::counter, "Messages published on the bus.");
  w.sample({}, m.published);
  w.family("courier_bus_unroutable_total", kind::counter, "Publishes that reached no subscriber.");
  w.sample({}, m.unroutable);
  w.family("courier_bus_requests_total", kind::counter, "Requests sent.");
  w.sample({}, m.requests);
  w.family("courier_bus_request_timeouts_total", kind::counter, "Requests that got no reply before their deadline.");
  w.sample({}, m.request_timeouts);
  w.family("courier_bus_late_replies_total", kind::counter, "Replies that came after their request had ended.");
  w.sample({}, m.late_replies);
  w.family("courier_bus_request_seconds", kind::histogram, "Request-to-reply time of replied requests, every subject.");
  w.histogram({}, m.request_latency_ns, prometheus_writer::nanosecond_bounds(), 1e-9);
}

void write_subjects(prometheus_writer& w, const std::vector<subject_metrics>& subjects) {
  auto name_of = [](const subject_metrics& s) -> std::string_view {
    return s.subject.empty() ? std::string_view{"(other)"} : std::string_view{s.subject};
  };
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t subject_metrics::*field) {
    w.family(name, kind::counter, help);
    for (const auto& s : subjects) w.sample({{"subject", name_of(s)}}, s.*field);
  };
  counter("courier_bus_subject_published_total", "Messages published, per subject.", &subject_metrics::published);
  counter("courier_bus_subject_delivered_total", "Messages handed to a subscriber's mailbox, one per subscriber.",
          &subject_metrics::delivered);
  counter("courier_bus_subject_duplicates_total", "Deliveries a dedupe window suppressed.",
          &subject_metrics::duplicates);
  counter("courier_bus_subject_unroutable_total", "Publishes that reached no subscriber.",
          &subject_metrics::unroutable);
  w.family("courier_bus_subject_dropped_total", kind::counter,
           "Deliveries an overflow policy turned away, per subject and policy.");
  for (const auto& s : subjects)
    for (const auto& [reason, n] : drops_by_reason(s.dropped)) w.sample({{"subject", name_of(s)}, {"reason", reason}}, n);
  counter("courier_bus_subject_requests_total", "Requests sent, per subject.", &subject_metrics::requests);
  counter("courier_bus_subject_request_timeouts_total", "Requests that timed out, per subject.",
          &subject_metrics::request_timeouts);
  counter("courier_bus_subject_no_responders_total", "Requests nobody served, per subject.",
          &subject_metrics::no_responders);
  counter("courier_bus_subject_request_failures_total", "Requests whose handler threw or whose delivery failed.",
          &subject_metrics::request_failures);
  w.family("courier_bus_subject_request_seconds", kind::histogram, "Request-to-reply time, per subject.");
  for (const auto& s : subjects) {
    const std::array<label, 1> ls{{{"subject", name_of(s)}}};
    w.histogram(ls, s.request_latency_ns, prometheus_writer::nanosecond_bounds(), 1e-9);
  }
}

void write_subscriptions(prometheus_writer& w, const std::vector<subscription_metrics>& subs) {
  std::vector<std::string> ids;
  ids.reserve(subs.size());
  for (const auto& s : subs) ids.push_back(std::to_string(s.id));
  auto labels_of = [&](std::size_t i) {
    return std::array<label, 3>{{{"subscription", ids[i]}, {"pattern", subs[i].pattern}, {"queue_group", subs[i].queue_group}}};
  };
  auto figure = [&](std::string_view name, kind k, std::string_view help, std::uint64_t subscription_metrics::*field) {
    w.family(name, k, help);
    for (std::size_t i = 0; i < subs.size(); ++i) w.sample(labels_of(i), subs[i].*field);
  };
  figure("courier_bus_subscription_delivered_total", kind::counter, "Messages handed to the subscriber's mailbox.",
         &subscription_metrics::delivered);
  figure("courier_bus_subscription_duplicates_total", kind::counter, "Messages its dedupe window suppressed.",
         &subscription_metrics::duplicates);
  w.family("courier_bus_subscription_dropped_total", kind::counter, "Messages its overflow policy turned away.");
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const auto base = labels_of(i);
    for (const auto& [reason, n] : drops_by_reason(subs[i].dropped)) {
      const std::array<label, 4> ls{{base[0], base[1], base[2], {"reason", reason}}};
      w.sample(ls, n);
    }
  }
  figure("courier_bus_subscription_depth", kind::gauge, "Messages queued for it now (bounded subscriptions).",
         &subscription_metrics::depth);
  figure("courier_bus_subscription_depth_max", kind::gauge, "The deepest its queue has been.",
         &subscription_metrics::max_depth);
}

}  // namespace

void write_prometheus(prometheus_writer& w, const bus_metrics& m) {
  write_totals(w, m);
  write_subjects(w, m.subjects);
  write_subscriptions(w, m.subscriptions);
}

std::string to_prometheus(const bus_metrics& m) {
  prometheus_writer w;
  write_prometheus(w, m);
  return std::move(w).take();
}

}  // namespace courier
