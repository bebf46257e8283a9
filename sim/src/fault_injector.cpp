#include "fault_injector.hpp"

#include <algorithm>
#include <stdexcept>

#include "courier/bus/subject.hpp"

namespace courier::sim {

namespace {
template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

void check_probability(double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("fault probability must be in [0, 1]");
}

void validate(const fault& f) {
  std::visit([](const auto& x) { check_probability(x.probability); }, f);
  std::visit(overloaded{
                 [](const drop&) {},
                 [](const duplicate& d) {
                   if (d.copies == 0) throw std::invalid_argument("duplicate fault needs copies >= 1");
                 },
                 [](const delay& d) {
                   if (d.min < duration::zero() || d.max < d.min)
                     throw std::invalid_argument("delay fault needs 0 <= min <= max");
                 },
                 [](const reorder& r) {
                   if (r.window < 2 || r.max_hold <= duration::zero())
                     throw std::invalid_argument("reorder fault needs window >= 2 and max_hold > 0");
                 },
             },
             f);
}
}  // namespace

bool fault_injector::rule::on(time_point now) const noexcept {
  bool state = initially_on;
  for (const auto& [t, to] : switches) {
    if (t > now) break;
    state = to;
  }
  return state;
}

std::size_t fault_injector::add(std::string_view pattern, const fault& f, bool on) {
  if (validate_pattern(pattern) != errc::ok)
    throw std::invalid_argument("fault pattern is not a valid subject pattern: '" + std::string{pattern} + "'");
  validate(f);
  rules_.push_back(rule{.pattern = std::string{pattern}, .what = f, .initially_on = on, .switches = {}, .stats = {}});
  last_message_ = {};  // what was cached about the last subject did not know this rule
  return rules_.size() - 1;
}

void fault_injector::switch_at(std::size_t index, time_point t, bool on) {
  auto& sw = rules_.at(index).switches;
  auto at = std::upper_bound(sw.begin(), sw.end(), t, [](time_point x, const auto& s) { return x < s.first; });
  sw.insert(at, {t, on});
}

bool fault_injector::roll(double probability) noexcept {
  if (probability >= 1.0) return true;
  return static_cast<double>(rng_.next() >> 11) * 0x1.0p-53 < probability;
}

void fault_injector::note(event what, std::uint32_t sub, std::uint64_t value,
                          std::size_t rule_index) {
  trace_.add(what, value, sub, static_cast<std::uint16_t>(rule_index + 1));
}

void fault_injector::see_message(const message_ptr& m) {
  last_message_ = m;
  const envelope* env = envelope_of(*m);
  last_subject_ = env != nullptr ? std::string_view{env->subject} : std::string_view{};
  last_hash_ = subject_hash(last_subject_);
  trace_.name_subject(last_hash_, last_subject_);
  last_faulty_ = std::any_of(rules_.begin(), rules_.end(), [&](const rule& r) { return matches(r.pattern, last_subject_); });
}

void fault_injector::name_first(std::uint32_t sub, std::string_view pattern) {
  if (sub >= named_.size()) named_.resize(sub + 1, 0);
  named_[sub] = 1;
  trace_.name_subscription(sub, pattern);
}

fault_injector::link& fault_injector::make_link(std::uint32_t sub) {
  if (sub >= links_.size()) links_.resize(sub + 1);
  if (!links_[sub]) links_[sub] = std::make_unique<link>();
  return *links_[sub];
}

bool fault_injector::passes(const message_ptr& m) {
  if (m.get() != last_message_.get()) see_message(m);  // a fan-out looks at its message once
  // No rule can touch it and nothing deferred could be overtaken: the bus delivers.
  return !last_faulty_ && deferred_ == 0;
}

void fault_injector::delivered(const message_ptr& m, const report& first, std::size_t also) {
  if (m.get() != last_message_.get()) see_message(m);
  const auto sub = static_cast<std::uint32_t>(first.subscription);
  name(sub, first.pattern);
  (void)record(sub, last_hash_, first.outcome);
  if (also == 0) return;
  // The rest of a fan-out is one record.
  stats_.delivered += also;
  trace_.add(event::fanout, last_hash_, static_cast<std::uint32_t>(also));
}

errc fault_injector::intercept(const delivery& d) {
  const auto sub = static_cast<std::uint32_t>(d.subscription());
  if (d.message().get() != last_message_.get()) see_message(d.message());
  name(sub, d.pattern());
  return decide(d, sub);
}

errc fault_injector::decide(const delivery& d, std::uint32_t sub) {
  const std::uint64_t h = last_hash_;
  const std::string_view subject = last_subject_;
  const time_point now = timers_.now();
  std::uint32_t extra = 0;
  bool delayed = false;
  duration after = duration::zero();
  const reorder* hold_in = nullptr;
  std::size_t hold_rule = 0;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    rule& r = rules_[i];
    if (!r.on(now) || !matches(r.pattern, subject)) continue;
    ++r.stats.matched;
    if (!std::visit([&](const auto& f) { return roll(f.probability); }, r.what)) continue;
    ++r.stats.fired;
    if (std::holds_alternative<drop>(r.what)) {
      ++stats_.dropped;
      note(event::drop, sub, h, i);
      return errc::ok;
    }
    std::visit(overloaded{
                   [](const drop&) {},
                   [&](const duplicate& f) {
                     extra += f.copies;
                     note(event::duplicate, sub, f.copies, i);
                   },
                   [&](const delay& f) {
                     const auto span = static_cast<std::uint64_t>((f.max - f.min).count());
                     const duration by = f.min + duration{static_cast<duration::rep>(rng_.below(span + 1))};
                     after = std::max(after, by);
                     delayed = true;
                     note(event::delay, sub, static_cast<std::uint64_t>(by.count()), i);
                   },
                   [&](const reorder& f) {
                     if (hold_in == nullptr) {
                       hold_in = &f;
                       hold_rule = i;
                     }
                   },
               },
               r.what);
  }
  stats_.duplicated += extra;
  // Each copy goes out delayed, unless a reorder holds them all instead.
  if (delayed && hold_in == nullptr) stats_.delayed += extra + 1;
  errc outcome = errc::ok;
  for (std::uint32_t c = 0; c <= extra; ++c) {
    errc e = hold_in != nullptr ? hold(d, sub, h, *hold_in, hold_rule) : forward(d, sub, h, after);
    if (e != errc::ok) outcome = e;
  }
  return outcome;
}

errc fault_injector::forward(const delivery& d, std::uint32_t sub, std::uint64_t subject, duration after) {
  link* l = find_link(sub);
  if (after <= duration::zero() && (l == nullptr || l->in_flight.empty())) return deliver_now(d, sub, subject);
  link& k = l != nullptr ? *l : make_link(sub);
  time_point release = timers_.now() + after;
  // FIFO per link: never due before the message ahead of it.
  if (!k.in_flight.empty()) release = std::max(release, k.in_flight.back().release);
  k.in_flight.push_back(pending{release, d, subject});
  ++deferred_;
  timers_.start_at(release, [this, sub] { flush(sub); });
  return errc::ok;
}

errc fault_injector::deliver_now(const delivery& d, std::uint32_t sub, std::uint64_t subject) {
  return record(sub, subject, d.deliver());
}

errc fault_injector::record(std::uint32_t sub, std::uint64_t subject, errc outcome) {
  const bool gone = outcome == errc::cancelled;  // the subscription went away meanwhile
  ++(gone ? stats_.cancelled : stats_.delivered);
  trace_.add(gone ? event::cancelled : event::deliver, subject, sub);
  return gone ? errc::ok : outcome;
}

void fault_injector::flush(std::uint32_t sub) {
  link& k = *links_[sub];
  const time_point now = timers_.now();
  while (!k.in_flight.empty() && k.in_flight.front().release <= now) {
    pending p = std::move(k.in_flight.front());
    k.in_flight.pop_front();
    --deferred_;
    deliver_now(p.d, sub, p.subject);
  }
}

errc fault_injector::hold(const delivery& d, std::uint32_t sub, std::uint64_t subject, const reorder& r,
                          std::size_t rule_index) {
  link& k = make_link(sub);
  k.held.push_back(pending{timers_.now(), d, subject});
  ++deferred_;
  ++stats_.reordered;
  note(event::reorder, sub, k.held.size(), rule_index);
  if (k.held.size() >= r.window) {
    release_held(sub);
  } else if (k.held.size() == 1) {
    const std::uint64_t epoch = k.held_epoch;
    timers_.start_at(timers_.now() + r.max_hold, [this, sub, epoch] {
      if (links_[sub]->held_epoch == epoch) release_held(sub);
    });
  }
  return errc::ok;
}

void fault_injector::release_held(std::uint32_t sub) {
  link& k = *links_[sub];
  std::vector<pending> batch = std::move(k.held);
  k.held.clear();
  deferred_ -= batch.size();
  ++k.held_epoch;
  for (std::size_t i = batch.size(); i > 1; --i) std::swap(batch[i - 1], batch[rng_.below(i)]);
  trace_.add(event::release, batch.size(), sub);
  for (pending& p : batch) forward(p.d, sub, p.subject, duration::zero());
}

}  // namespace courier::sim
