#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "courier/runtime/histogram.hpp"
#include "courier/runtime/prometheus_writer.hpp"

namespace courier {

/// Messages a subscription's overflow policy turned away, by policy.
struct drop_counts {
  std::uint64_t newest = 0;         ///< overflow::drop_newest discarded the new message.
  std::uint64_t oldest = 0;         ///< overflow::drop_oldest discarded the oldest waiting one.
  std::uint64_t rejected = 0;       ///< overflow::reject; publish() returned errc::mailbox_full.
  std::uint64_t timed_out = 0;      ///< overflow::block waited past block_timeout.
  std::uint64_t dead_lettered = 0;  ///< overflow::dead_letter sent it to the dead-letter subject.

  /// Every message turned away, whatever the reason.
  [[nodiscard]] std::uint64_t total() const noexcept {
    return newest + oldest + rejected + timed_out + dead_lettered;
  }
};

/// Counters of one published subject (not a pattern: `orders.eu.placed`).
struct subject_metrics {
  /// The subject; empty for the entry that sums subjects past bus_config::metrics_subjects.
  std::string subject;
  std::uint64_t published = 0;   ///< publish() calls with this subject.
  std::uint64_t delivered = 0;   ///< Handed to a subscriber's mailbox (one per subscriber).
  std::uint64_t duplicates = 0;  ///< Deliveries a subscription's dedupe window suppressed.
  std::uint64_t unroutable = 0;  ///< Publishes that reached no subscriber.
  drop_counts dropped;           ///< Deliveries an overflow policy turned away.
  std::uint64_t requests = 0;          ///< request() calls with this subject.
  std::uint64_t request_timeouts = 0;  ///< Requests that got no reply before their deadline.
  std::uint64_t no_responders = 0;     ///< Requests nobody served.
  std::uint64_t request_failures = 0;  ///< Requests whose handler threw or whose delivery failed.
  /// Request-to-reply time in nanoseconds of the system's clock, for replied requests.
  histogram_snapshot request_latency_ns;
};

/// Counters of one subscription.
struct subscription_metrics {
  std::uint64_t id = 0;     ///< As delivery::subscription(): unique in its bus, from 1.
  std::string pattern;      ///< The pattern it was made with.
  std::string queue_group;  ///< Empty unless it competes in a queue group.
  std::uint64_t delivered = 0;   ///< Handed to the subscriber's mailbox.
  std::uint64_t duplicates = 0;  ///< Suppressed by its dedupe window.
  drop_counts dropped;           ///< Turned away by its overflow policy.
  std::uint64_t depth = 0;       ///< Messages queued for it now (bounded subscriptions).
  std::uint64_t max_depth = 0;   ///< The largest depth seen.
};

/// A snapshot of a bus's metrics. Counters are read while publishers may be
/// running, so they are exact once publishing has stopped and every queue drained.
struct bus_metrics {
  std::uint64_t published = 0;
  std::uint64_t unroutable = 0;
  std::uint64_t requests = 0;
  std::uint64_t request_timeouts = 0;
  std::uint64_t late_replies = 0;
  histogram_snapshot request_latency_ns;            ///< Every subject's, merged.
  std::vector<subject_metrics> subjects;            ///< Sorted by subject.
  std::vector<subscription_metrics> subscriptions;  ///< Live ones, sorted by id.

  /// The entry for `subject`, or nullptr if nothing was published or requested on it.
  [[nodiscard]] const subject_metrics* subject(std::string_view subject) const noexcept {
    auto it = std::lower_bound(subjects.begin(), subjects.end(), subject,
                               [](const subject_metrics& m, std::string_view s) { return m.subject < s; });
    return it != subjects.end() && it->subject == subject ? &*it : nullptr;
  }
  /// The entry for subscription `id`, or nullptr if it is gone.
  [[nodiscard]] const subscription_metrics* subscription(std::uint64_t id) const noexcept {
    auto it = std::lower_bound(subscriptions.begin(), subscriptions.end(), id,
                               [](const subscription_metrics& m, std::uint64_t i) { return m.id < i; });
    return it != subscriptions.end() && it->id == id ? &*it : nullptr;
  }
};

/// Appends `m` to `w` as the `courier_bus_*` metric families: the totals,
/// then per subject (label `subject`; "(other)" for the shared overflow
/// entry) and per subscription (labels `subscription`, `pattern`,
/// `queue_group`). Drops carry a `reason` label named after the overflow
/// policy. Write a system's metrics into the same writer for one scrape
/// (docs/bus.md, "Metrics").
void write_prometheus(prometheus_writer& w, const bus_metrics& m);
/// write_prometheus() into a fresh writer.
[[nodiscard]] std::string to_prometheus(const bus_metrics& m);

}  // namespace courier
