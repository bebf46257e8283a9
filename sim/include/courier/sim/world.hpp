#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "courier/bus/bus.hpp"
#include "courier/runtime/random.hpp"
#include "courier/runtime/system.hpp"
#include "courier/sim/fault.hpp"
#include "courier/sim/trace.hpp"

namespace courier::sim {

/// How the seed orders actor turns.
enum class schedule : std::uint8_t {
  /// In rounds: each round runs every actor that was ready when it began, one
  /// turn each, in an order the seed shuffles; an actor made ready during a
  /// round runs in the next. No ready actor waits more than one round, as on
  /// a thread pool's queue, so mailboxes stay as short as the load allows.
  rounds,
  /// Each turn goes to any ready actor, chosen uniformly: one actor may take
  /// many turns while another waits. Reaches more extreme interleavings, at
  /// the price of longer mailboxes and a slower run.
  uniform,
};

struct world_config {
  /// Fixes the schedule, every fault decision and rng(). See seed_from_env().
  std::uint64_t seed = 0;
  /// Where virtual time starts.
  time_point start = {};
  /// The timer wheel's tick: timers fire at their exact deadline, this only sets the wheel's granularity.
  duration timer_resolution = std::chrono::microseconds{1};
  /// How the seed orders actor turns.
  sim::schedule schedule = sim::schedule::rounds;
  /// Messages an actor handles per turn (system_config::throughput).
  std::uint32_t throughput = 64;
  /// Trace records kept in memory; later ones still count in trace_hash().
  std::size_t trace_capacity = std::size_t{1} << 16;
  /// Record executor turns (the schedule) as well as deliveries, timers and faults.
  bool trace_turns = true;
  /// The bus's options; its `intercept` is taken by the world.
  bus_config bus = {};
  dead_letter_sink on_dead_letter = {};
};

class world;

/// A fault rule in a world: switch it on or off now or at virtual instants, read its counters.
/// @pre the world outlives the handle.
class fault_handle {
 public:
  /// Switches the rule on from virtual time `t` (until a later switch).
  fault_handle& on_at(time_point t);
  /// Switches the rule off from virtual time `t`: a partition that heals.
  fault_handle& off_at(time_point t);
  /// Switches the rule on or off from now.
  fault_handle& set(bool on);
  [[nodiscard]] fault_stats stats() const;

 private:
  friend class world;
  fault_handle(world& w, std::size_t index) noexcept : world_{&w}, index_{index} {}
  world* world_;
  std::size_t index_;
};

/// A deterministic world: a seeded single-threaded executor, a virtual clock
/// with its timers and a seeded generator, hosting an ordinary
/// courier::system and courier::bus. Actor and bus code runs in it unchanged. Handlers take no
/// virtual time; the clock jumps to the next timer deadline only when no
/// actor is ready to run. The same seed and code give the same run, the same
/// trace and the same trace_hash().
/// @pre every call, and every publish into the world's bus, comes from one thread.
class world {
 public:
  explicit world(world_config cfg = {});
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  [[nodiscard]] courier::system& sys() noexcept;
  [[nodiscard]] courier::bus& bus() noexcept;
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  /// A generator for the model's own choices, seeded from seed() (its own stream).
  [[nodiscard]] splitmix64& rng() noexcept;
  [[nodiscard]] time_point now() const noexcept;
  /// Virtual time since the world began.
  [[nodiscard]] duration elapsed() const noexcept;

  /// Runs one actor turn, or, when none is ready, moves the clock to the next
  /// timer deadline and fires what is due there. False if the world is idle.
  bool step();
  /// No actor ready and no timer pending: nothing can ever happen again.
  [[nodiscard]] bool idle() const;
  /// Steps until idle, or `max_steps`; returns the steps taken.
  std::uint64_t run(std::uint64_t max_steps = UINT64_MAX);
  /// Steps through everything due up to `t`, then sets the clock to `t`; returns the steps taken.
  std::uint64_t run_until(time_point t);
  std::uint64_t run_for(duration d) { return run_until(now() + d); }
  /// Steps until `pred()` holds (checked before each step), the world is
  /// idle, or the next event lies after `limit`. True if `pred()` held.
  bool run_until(const std::function<bool()>& pred, time_point limit = time_point::max());

  /// Runs `fn` at virtual time `t` (on the world's thread, like a timer).
  void at(time_point t, std::function<void()> fn);

  /// Adds a fault for deliveries on subjects matching `pattern`, switched on
  /// now unless `on` is false. Rules apply in the order added; drop wins.
  /// Throws std::invalid_argument for a bad pattern or probability.
  fault_handle inject(std::string_view pattern, fault f, bool on = true);
  [[nodiscard]] delivery_stats deliveries() const noexcept;

  [[nodiscard]] const sim::trace& trace() const noexcept;
  /// The digest of the trace so far (see trace::hash()).
  [[nodiscard]] std::uint64_t trace_hash() const noexcept { return trace().hash(); }

 private:
  friend class fault_handle;
  struct state;
  std::uint64_t seed_;
  std::unique_ptr<state> s_;
};

/// COURIER_SIM_SEED when it is set (decimal or 0x hex), else `fallback`.
std::uint64_t seed_from_env(std::uint64_t fallback);

}  // namespace courier::sim
