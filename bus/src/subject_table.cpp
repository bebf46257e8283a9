#include "subject_table.hpp"

#include <algorithm>
#include <mutex>

namespace courier::detail {
namespace {

/// One thread's shortcut from subject to counters, for one table.
struct thread_view {
  std::unordered_map<std::string, subject_counters*, subject_hash, std::equal_to<>> entries;
};

constexpr std::size_t max_cached_subjects = 4096;

std::uint64_t load(const std::atomic<std::uint64_t>& a) noexcept { return a.load(std::memory_order_relaxed); }

}  // namespace

void subject_counters::record_latency(std::uint64_t ns) noexcept {
  histogram* h = latency_.load(std::memory_order_acquire);
  if (h == nullptr) {
    auto* fresh = new histogram;
    // acq_rel: release publishes the zeroed histogram to readers that acquire
    // latency_; on failure, acquire makes the winner's histogram visible to us.
    if (latency_.compare_exchange_strong(h, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
      h = fresh;
    } else {
      delete fresh;
    }
  }
  h->record_shared(ns);
}

void subject_counters::read(subject_metrics& out) const noexcept {
  out.published = load(published);
  out.delivered = load(delivered);
  out.duplicates = load(duplicates);
  out.unroutable = load(unroutable);
  out.dropped = drop_counts{load(newest), load(oldest), load(rejected), load(timed_out), load(dead_lettered)};
  out.requests = load(requests);
  out.request_timeouts = load(request_timeouts);
  out.no_responders = load(no_responders);
  out.request_failures = load(request_failures);
  // Acquire: pairs with the release in record_latency(), so the histogram is initialised.
  if (const histogram* h = latency_.load(std::memory_order_acquire)) h->add_to(out.request_latency_ns);
}

subject_table::subject_table(std::size_t max_subjects)
    : max_subjects_{max_subjects} {}

subject_table::~subject_table() = default;

subject_counters& subject_table::at(std::string_view subject) {
  thread_view& view = per_thread<thread_view>(owner_);
  if (auto it = view.entries.find(subject); it != view.entries.end()) return *it->second;
  subject_counters& c = find_or_insert(subject);
  if (view.entries.size() >= max_cached_subjects) view.entries.clear();
  view.entries.emplace(subject, &c);
  return c;
}

subject_counters& subject_table::find_or_insert(std::string_view subject) {
  {
    std::shared_lock lock{mutex_};
    if (auto it = entries_.find(subject); it != entries_.end()) return *it->second;
  }
  std::unique_lock lock{mutex_};
  if (auto it = entries_.find(subject); it != entries_.end()) return *it->second;
  if (entries_.size() >= max_subjects_) return other_;
  return *entries_.emplace(std::string{subject}, std::make_unique<subject_counters>()).first->second;
}

std::vector<subject_metrics> subject_table::snapshot() const {
  std::vector<subject_metrics> out;
  {
    std::shared_lock lock{mutex_};
    out.reserve(entries_.size() + 1);
    for (const auto& [name, c] : entries_) {
      out.emplace_back().subject = name;
      c->read(out.back());
    }
  }
  subject_metrics rest;
  other_.read(rest);
  if (rest.published + rest.requests > 0) out.push_back(std::move(rest));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.subject < b.subject; });
  return out;
}

}  // namespace courier::detail
