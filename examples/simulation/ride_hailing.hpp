// A ride-hailing city in a simulated world: riders ask their zone's dispatcher
// for a car (request-reply), dispatchers learn which drivers are free from
// the drivers' announcements (pub/sub), and trips, pick-ups and the next wish
// for a ride are timers in virtual time.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include <courier/courier.hpp>
#include <courier/sim.hpp>

namespace city {

using namespace std::chrono_literals;

inline constexpr int zones = 64;

struct want_ride {};
struct ride_request {
  courier::actor_ref rider;
  int from;
  int to;
};
struct offer {
  bool matched;
  std::uint32_t driver;
  courier::duration pickup;
};
struct dispatch_result {
  bool matched;
  bool timed_out;
  courier::duration pickup;
};
struct assign {
  courier::actor_ref rider;
  int from;
  int to;
  courier::duration pickup;
};
struct trip_end {
  courier::actor_ref rider;
  int to;
  long cents;
};
struct trip_done {
  long cents;
};
struct driver_available {
  std::uint32_t driver;
  courier::actor_ref ref;
};
struct trip_completed {
  long cents;
  courier::duration took;
};
struct ride_abandoned {};

/// What the run adds up; written on the world's one thread.
struct totals {
  std::uint64_t requests = 0, matched = 0, no_driver = 0, timeouts = 0, abandoned = 0, trips = 0;
  long long revenue_cents = 0;
  courier::duration pickup_wait{}, trip_time{};
};

/// A uniformly drawn duration in [lo, hi].
inline courier::duration between(courier::splitmix64& rng, courier::duration lo, courier::duration hi) {
  return lo + courier::duration{static_cast<courier::duration::rep>(
                  rng.below(static_cast<std::uint64_t>((hi - lo).count()) + 1))};
}

inline std::string zone_subject(const char* what, int zone) { return fmt::format("{}.{}", what, zone); }

/// Wants a ride now and then; asks the dispatcher of its zone, retries twice, then gives up.
class rider : public courier::actor {
 public:
  using handles = courier::handles<want_ride, dispatch_result, trip_done>;
  rider(courier::sim::world& w, totals& t) : world_{w}, totals_{t} {}

  void on(const want_ride&) {
    auto& rng = world_.rng();
    if (attempts_ == 0) {
      from_ = static_cast<int>(rng.below(zones));
      to_ = static_cast<int>(rng.below(zones));
    }
    ++attempts_;
    ++totals_.requests;
    world_.bus().request<offer>(zone_subject("dispatch", from_), ride_request{self(), from_, to_}, 30s,
                                [me = self()](courier::reply<offer> r) {
                                  me.send(dispatch_result{r && r->matched, !r && r.error() == courier::errc::timeout,
                                                          r ? r->pickup : courier::duration{}});
                                });
  }
  void on(const dispatch_result& r) {
    if (r.matched) {
      ++totals_.matched;
      totals_.pickup_wait += r.pickup;
      return;
    }
    (r.timed_out ? totals_.timeouts : totals_.no_driver) += 1;
    if (attempts_ < 3) {
      courier::send_after(world_.sys().timers(), self(), 2min, want_ride{});
      return;
    }
    (void)world_.bus().publish("rides.abandoned", ride_abandoned{});
    next_ride();
  }
  void on(const trip_done&) { next_ride(); }

 private:
  void next_ride() {
    attempts_ = 0;
    courier::send_after(world_.sys().timers(), self(), between(world_.rng(), 1h, 15h), want_ride{});
  }

  courier::sim::world& world_;
  totals& totals_;
  int attempts_ = 0;
  int from_ = 0;
  int to_ = 0;
};

/// Drives a rider to a zone, then tells its new zone it is free.
class driver : public courier::actor {
 public:
  using handles = courier::handles<assign, trip_end>;
  driver(courier::sim::world& w, std::uint32_t id) : world_{w}, id_{id} {}

  void on(const assign& a) {
    const courier::duration trip = between(world_.rng(), 5min, 40min);
    const long cents = 300 + static_cast<long>(trip / 1min) * 120;
    started_ = world_.now();
    courier::send_after(world_.sys().timers(), self(), a.pickup + trip, trip_end{a.rider, a.to, cents});
  }
  void on(const trip_end& e) {
    e.rider.send(trip_done{e.cents});
    (void)world_.bus().publish("trips.completed", trip_completed{e.cents, world_.now() - started_});
    (void)world_.bus().publish(zone_subject("drivers", e.to) + ".available", driver_available{id_, self()});
  }

 private:
  courier::sim::world& world_;
  std::uint32_t id_;
  courier::time_point started_{};
};

/// One zone's dispatcher: answers ride requests with the most recently freed driver.
class dispatcher : public courier::actor {
 public:
  using handles = courier::handles<ride_request, driver_available>;
  explicit dispatcher(courier::sim::world& w) : world_{w} {}

  void on(const driver_available& d) { free_.push_back(d); }
  offer on(const ride_request& q) {
    if (free_.empty()) return offer{false, 0, {}};
    driver_available d = free_.back();
    free_.pop_back();
    const courier::duration pickup = between(world_.rng(), 2min, 12min);
    d.ref.send(assign{q.rider, q.from, q.to, pickup});
    return offer{true, d.driver, pickup};
  }

 private:
  courier::sim::world& world_;
  std::vector<driver_available> free_;
};

/// Adds up completed trips and abandoned rides from the bus.
class ledger : public courier::actor {
 public:
  using handles = courier::handles<trip_completed, ride_abandoned>;
  explicit ledger(totals& t) : totals_{t} {}
  void on(const trip_completed& t) {
    ++totals_.trips;
    totals_.revenue_cents += t.cents;
    totals_.trip_time += t.took;
  }
  void on(const ride_abandoned&) { ++totals_.abandoned; }

 private:
  totals& totals_;
};

}  // namespace city
