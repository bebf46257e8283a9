#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/bus/bus.hpp"
#include "courier/runtime/random.hpp"
#include "courier/sim/fault.hpp"
#include "courier/sim/trace.hpp"
#include "world_timers.hpp"

namespace courier::sim {

/// The world's delivery interceptor: decides each delivery's faults, keeps
/// each subscription's link FIFO under delay, holds reorder windows, and
/// traces every delivery and decision. A message no rule matches, published
/// while nothing is held or in flight, passes: the bus delivers it and the
/// injector only traces each delivery.
class fault_injector final : public delivery_interceptor {
 public:
  fault_injector(sim::trace& t, world_timers& timers, std::uint64_t seed)
      : trace_{t}, timers_{timers}, rng_{seed} {}

  /// Adds a rule; returns its index. Throws std::invalid_argument on a bad pattern or parameter.
  std::size_t add(std::string_view pattern, const fault& f, bool on);
  void switch_at(std::size_t index, time_point t, bool on);
  [[nodiscard]] fault_stats rule_stats(std::size_t index) const { return rules_.at(index).stats; }
  [[nodiscard]] delivery_stats stats() const noexcept { return stats_; }

  bool passes(const message_ptr& m) override;
  void delivered(const message_ptr& m, const report& first, std::size_t also) override;
  errc intercept(const delivery& d) override;

 private:
  struct rule {
    std::string pattern;
    fault what;
    bool initially_on = true;
    std::vector<std::pair<time_point, bool>> switches;  // sorted by time, stable
    fault_stats stats;
    [[nodiscard]] bool on(time_point now) const noexcept;
  };
  struct pending {
    time_point release;
    delivery d;
    std::uint64_t subject;
  };
  /// One subscription's deferred deliveries; made when a fault first defers one.
  struct link {
    std::deque<pending> in_flight;  // FIFO, release times non-decreasing
    std::vector<pending> held;      // a reorder window
    std::uint64_t held_epoch = 0;
  };

  bool roll(double probability) noexcept;
  /// Notes a message's subject, its hash and whether any rule matches it.
  void see_message(const message_ptr& m);
  /// Gives the trace the subscription's pattern, the first time it is seen.
  void name(std::uint32_t sub, std::string_view pattern) {
    if (!named(sub)) [[unlikely]]
      name_first(sub, pattern);
  }
  [[nodiscard]] bool named(std::uint32_t sub) const noexcept { return sub < named_.size() && named_[sub] != 0; }
  void name_first(std::uint32_t sub, std::string_view pattern);
  errc decide(const delivery& d, std::uint32_t sub);
  [[nodiscard]] link* find_link(std::uint32_t sub) const noexcept {
    return sub < links_.size() ? links_[sub].get() : nullptr;
  }
  link& make_link(std::uint32_t sub);
  void note(event what, std::uint32_t sub, std::uint64_t value, std::size_t rule_index);
  errc forward(const delivery& d, std::uint32_t sub, std::uint64_t subject, duration after);
  errc deliver_now(const delivery& d, std::uint32_t sub, std::uint64_t subject);
  /// Counts and traces a delivery's outcome; errc::cancelled (the subscription went away) reads as ok.
  errc record(std::uint32_t sub, std::uint64_t subject, errc outcome);
  void flush(std::uint32_t sub);
  errc hold(const delivery& d, std::uint32_t sub, std::uint64_t subject, const reorder& r, std::size_t rule_index);
  void release_held(std::uint32_t sub);

  sim::trace& trace_;
  world_timers& timers_;
  splitmix64 rng_;
  std::vector<rule> rules_;
  std::vector<std::unique_ptr<link>> links_;  // indexed by subscription id
  std::vector<std::uint8_t> named_;  // indexed by subscription id: 1 once the trace has its pattern
  std::size_t deferred_ = 0;                  // deliveries held or in flight on any link
  // The last message seen, held so that its address cannot be reused while
  // what is cached about its subject is in use.
  message_ptr last_message_;
  std::string_view last_subject_;
  std::uint64_t last_hash_ = 0;
  bool last_faulty_ = false;  // some rule's pattern matches last_subject_
  delivery_stats stats_;
};

}  // namespace courier::sim
