// How the order services are connected to a bus, how orders are placed, and
// the summary a run ends with: written once for the flagship example, the
// tests that run it in a simulated world, and a split across processes.
#pragma once

#include <fmt/format.h>

#include <deque>
#include <string>
#include <vector>

#include "services.hpp"

namespace orders {

/// The services a process hosts; the others run elsewhere.
enum service : unsigned {
  payments_service = 1,
  inventory_service = 2,
  order_saga = 4,
  notifications_service = 8,
  all_services = 15,
};

struct flow_config {
  unsigned here = all_services;
  int skus = 50;  ///< The last sku is out of stock: its orders are refunded and cancelled.
  std::uint64_t decline_every = 97;    ///< Every 97th card is declined (0: none).
  std::uint64_t duplicate_every = 50;  ///< Every 50th order is published twice with one id (0: none).
  std::size_t dedupe_window = 1 << 16;
  std::size_t notify_capacity = 1024;  ///< The notifications inbox keeps the newest this many.
};

/// The actors and subscriptions of one process's services; destroying it disconnects them.
struct flow {
  std::vector<courier::actor_ref> actors;
  std::deque<courier::subscription> subs;  // a deque: inbox and notices point into it
  courier::subscription* inbox = nullptr;    ///< payments' deduplicating subscription, if hosted here
  courier::subscription* notices = nullptr;  ///< notifications' bounded subscription, if hosted here
};

/// Spawns the services `cfg.here` names on `sys` and subscribes them on `bus`.
inline flow connect(courier::system& sys, courier::bus& bus, tally& t, const flow_config& cfg) {
  flow f;
  auto sub = [&f](courier::result<courier::subscription> r) {
    f.subs.push_back(std::move(r.value()));
    return &f.subs.back();
  };
  if (cfg.here & payments_service) {
    auto pay = f.actors.emplace_back(sys.spawn<payments>(bus, t, cfg.decline_every));
    f.inbox = sub(bus.subscribe<order_placed>("orders.*.placed", pay, {.dedupe_window = cfg.dedupe_window}));
    sub(bus.subscribe<refund_payment>("payments.refund", pay));
  }
  if (cfg.here & inventory_service) {
    auto inv = f.actors.emplace_back(sys.spawn<inventory>(bus, cfg.skus, cfg.skus - 1));
    sub(bus.serve<reserve_stock>("inventory.reserve", inv));
    sub(bus.subscribe<stock_reserved>("inventory.reserved", [&t](const stock_reserved&) {
      t.reserved.fetch_add(1, std::memory_order_relaxed);
    }));
  }
  if (cfg.here & order_saga) {
    auto saga = f.actors.emplace_back(sys.spawn<order_service>(bus, t));
    sub(bus.subscribe<payment_completed>("payments.completed", saga));
    sub(bus.subscribe<payment_failed>("payments.failed", saga));
    sub(bus.subscribe<payment_refunded>("payments.refunded", saga));
  }
  if (cfg.here & notifications_service) {
    auto notify = f.actors.emplace_back(sys.spawn<notifications>(t));
    f.notices = sub(bus.subscribe<order_closed>(
        "orders.closed.*", notify, {.capacity = cfg.notify_capacity, .policy = courier::overflow::drop_oldest}));
  }
  return f;
}

/// Publishes order `i` on orders.<region>.placed, twice with one id when it is a duplicate.
inline void place(courier::bus& bus, std::uint64_t i, const flow_config& cfg) {
  static constexpr const char* regions[] = {"eu", "us", "apac"};
  const auto id = courier::uuid::v7();
  const auto subject = fmt::format("orders.{}.placed", regions[i % 3]);
  const order_placed o{i, static_cast<int>(i % static_cast<std::uint64_t>(cfg.skus)), 990 + static_cast<long>(i % 7),
                       clock::now()};
  (void)bus.publish(subject, o, {.id = id});
  if (cfg.duplicate_every != 0 && i % cfg.duplicate_every == 0) (void)bus.publish(subject, o, {.id = id});
}

/// What a run of `count` orders did.
struct summary {
  std::uint64_t completed = 0, cancelled = 0, declined = 0, refunded = 0, reserved = 0, charged = 0;
  std::uint64_t duplicates = 0;  ///< suppressed by the payments inbox
  friend bool operator==(const summary&, const summary&) = default;
};

inline summary summarize(const tally& t, const flow& f) {
  return summary{t.completed.load(), t.cancelled.load(), t.declined.load(),  t.refunded.load(),
                 t.reserved.load(),  t.charged.load(),   f.inbox != nullptr ? f.inbox->stats().duplicates : 0};
}

/// The summary a correct run of `count` orders must reach.
inline summary expected(std::uint64_t count, const flow_config& cfg) {
  summary s;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (cfg.duplicate_every != 0 && i % cfg.duplicate_every == 0) ++s.duplicates;
    if (declined(i, cfg.decline_every)) {
      ++s.declined;
      ++s.cancelled;
      continue;
    }
    ++s.charged;
    if (i % static_cast<std::uint64_t>(cfg.skus) == static_cast<std::uint64_t>(cfg.skus) - 1) {
      ++s.refunded;
      ++s.cancelled;
    } else {
      ++s.reserved;
      ++s.completed;
    }
  }
  return s;
}

/// The summary's lines, as the examples print them.
inline std::string describe(const summary& s) {
  return fmt::format(
      "  completed {}, cancelled {} (payment declined {}; out of stock, refunded {}), stock reserved {}\n"
      "  payments charged {}, duplicates suppressed by the inbox {}\n",
      s.completed, s.cancelled, s.declined, s.refunded, s.reserved, s.charged, s.duplicates);
}

}  // namespace orders
