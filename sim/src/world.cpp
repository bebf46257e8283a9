#include "courier/sim/world.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "fault_injector.hpp"
#include "world_executor.hpp"
#include "world_timers.hpp"

namespace courier::sim {

namespace {
/// An independent stream for each use of the seed, so that adding a fault
/// does not shift the schedule and a model's draws do not shift the faults.
std::uint64_t derive(std::uint64_t seed, std::uint64_t stream) noexcept {
  return splitmix64{seed ^ (stream * 0xd1b54a32d192ed03ULL)}.next();
}
}  // namespace

struct world::state {
  explicit state(world_config& cfg)
      : start{cfg.start},
        trace{cfg.trace_capacity},
        clock{cfg.start},
        timers{clock, cfg.timer_resolution, trace, cfg.start},
        exec{cfg.seed, cfg.schedule, cfg.trace_turns ? &trace : nullptr},
        rng{derive(cfg.seed, 2)},
        faults{std::make_shared<fault_injector>(trace, timers, derive(cfg.seed, 1))} {
    sys.emplace(system_config{.throughput = cfg.throughput,
                              .exec = &exec,
                              .timers = &timers,
                              .on_dead_letter = std::move(cfg.on_dead_letter)});
    cfg.bus.intercept = faults;
    bus.emplace(*sys, std::move(cfg.bus));
  }

  /// One turn if an actor is ready, else the timers due at the next deadline
  /// if that is no later than `limit`. False if neither.
  bool step_before(time_point limit) {
    if (exec.run_one()) return true;
    auto next = timers.next_deadline();
    if (!next || *next > limit) return false;
    const std::size_t fired = timers.fire_at(*next);
    trace.add(event::timers, fired);
    return true;
  }

  time_point start;
  sim::trace trace;
  virtual_clock clock;
  world_timers timers;
  world_executor exec;
  splitmix64 rng;
  std::shared_ptr<fault_injector> faults;
  // Destroyed first: shutting the system down runs the last turns, which
  // may still publish through the injector and append to the trace.
  std::optional<courier::system> sys;
  std::optional<courier::bus> bus;
};

world::world(world_config cfg) : seed_{cfg.seed}, s_{std::make_unique<state>(cfg)} {}

world::~world() {
  s_->bus.reset();
  s_->sys.reset();
}

courier::system& world::sys() noexcept { return *s_->sys; }
courier::bus& world::bus() noexcept { return *s_->bus; }
splitmix64& world::rng() noexcept { return s_->rng; }
time_point world::now() const noexcept { return s_->clock.now(); }
duration world::elapsed() const noexcept { return s_->clock.now() - s_->start; }
const sim::trace& world::trace() const noexcept { return s_->trace; }
delivery_stats world::deliveries() const noexcept { return s_->faults->stats(); }

bool world::step() { return s_->step_before(time_point::max()); }

bool world::idle() const { return s_->exec.ready() == 0 && !s_->timers.next_deadline(); }

std::uint64_t world::run(std::uint64_t max_steps) {
  std::uint64_t steps = 0;
  while (steps < max_steps && step()) ++steps;
  return steps;
}

std::uint64_t world::run_until(time_point t) {
  std::uint64_t steps = 0;
  while (s_->step_before(t)) ++steps;
  s_->timers.advance_to(t);
  return steps;
}

bool world::run_until(const std::function<bool()>& pred, time_point limit) {
  while (!pred())
    if (!s_->step_before(limit)) return pred();
  return true;
}

void world::at(time_point t, std::function<void()> fn) { s_->timers.start_at(t, std::move(fn)); }

fault_handle world::inject(std::string_view pattern, fault f, bool on) {
  return fault_handle{*this, s_->faults->add(pattern, f, on)};
}

fault_handle& fault_handle::on_at(time_point t) {
  world_->s_->faults->switch_at(index_, t, true);
  return *this;
}

fault_handle& fault_handle::off_at(time_point t) {
  world_->s_->faults->switch_at(index_, t, false);
  return *this;
}

fault_handle& fault_handle::set(bool on) {
  world_->s_->faults->switch_at(index_, world_->now(), on);
  return *this;
}

fault_stats fault_handle::stats() const { return world_->s_->faults->rule_stats(index_); }

std::uint64_t seed_from_env(std::uint64_t fallback) {
  const char* s = std::getenv("COURIER_SIM_SEED");
  if (s == nullptr || *s == '\0') return fallback;
  // Decimal, or hex after 0x: nothing else (no sign, space or octal), so a
  // printed seed always reads back as the same number.
  const std::string_view text{s};
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = hex ? text.substr(2) : text;
  std::uint64_t v = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), v, hex ? 16 : 10);
  if (error != std::errc{} || end != digits.data() + digits.size())
    throw std::invalid_argument(std::string{"COURIER_SIM_SEED is not a seed: '"} + s + "'");
  return v;
}

}  // namespace courier::sim
