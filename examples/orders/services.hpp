// The order flow's services. Each is an actor that talks only through the bus.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <courier/courier.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace orders {

using clock = std::chrono::steady_clock;

struct order_placed {
  std::uint64_t order_id;
  int sku;
  long cents;
  clock::time_point placed_at;
};
struct payment_completed {
  std::uint64_t order_id;
  int sku;
  clock::time_point placed_at;
};
struct payment_failed {
  std::uint64_t order_id;
  clock::time_point placed_at;
};
struct refund_payment {
  std::uint64_t order_id;
};
struct payment_refunded {
  std::uint64_t order_id;
};
struct reserve_stock {
  std::uint64_t order_id;
  int sku;
};
struct reservation {
  bool reserved;
};
struct stock_reserved {
  std::uint64_t order_id;
};
struct order_closed {
  std::uint64_t order_id;
  bool completed;
  clock::time_point placed_at;
};
struct reservation_outcome {
  payment_completed payment;
  bool reserved;
};

/// What the services report; read by main once the run is over.
struct tally {
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> declined{0};  ///< cancelled because the payment failed
  std::atomic<std::uint64_t> charged{0};
  std::atomic<std::uint64_t> refunded{0};
  std::atomic<std::uint64_t> notified{0};
  std::atomic<std::uint64_t> reserved{0};
  std::atomic<std::uint64_t> closed{0};  ///< completed + cancelled; notified on every close
  std::vector<double> latency_us;  // written only by the order service
};

/// The card of every `decline_every`-th order is declined (0: none is).
inline bool declined(std::uint64_t order_id, std::uint64_t decline_every) {
  return decline_every != 0 && order_id % decline_every == decline_every - 1;
}

/// Charges each placed order once (its inbox drops duplicate deliveries),
/// fails the declined ones, and refunds on request.
class payments : public courier::actor {
 public:
  using handles = courier::handles<order_placed, refund_payment>;
  payments(courier::bus& bus, tally& t, std::uint64_t decline_every)
      : bus_{bus}, tally_{t}, decline_every_{decline_every} {}
  void on(const order_placed& o) {
    if (declined(o.order_id, decline_every_)) {
      (void)bus_.publish("payments.failed", payment_failed{o.order_id, o.placed_at});
      return;
    }
    tally_.charged.fetch_add(1, std::memory_order_relaxed);
    (void)bus_.publish("payments.completed", payment_completed{o.order_id, o.sku, o.placed_at});
  }
  void on(const refund_payment& r) {
    tally_.refunded.fetch_add(1, std::memory_order_relaxed);
    (void)bus_.publish("payments.refunded", payment_refunded{r.order_id});
  }

 private:
  courier::bus& bus_;
  tally& tally_;
  std::uint64_t decline_every_;
};

/// Answers inventory.reserve; announces each reservation.
class inventory : public courier::actor {
 public:
  using handles = courier::handles<reserve_stock>;
  inventory(courier::bus& bus, int skus, int out_of_stock_sku) : bus_{bus}, stock_(skus, 1 << 30) {
    stock_[out_of_stock_sku] = 0;
  }
  reservation on(const reserve_stock& r) {
    int& left = stock_[r.sku];
    if (left == 0) return {false};
    --left;
    (void)bus_.publish("inventory.reserved", stock_reserved{r.order_id});
    return {true};
  }

 private:
  courier::bus& bus_;
  std::vector<int> stock_;
};

/// The saga: after payment, reserve stock; if there is none, refund and
/// cancel. A failed payment cancels the order at once.
class order_service : public courier::actor {
 public:
  using handles = courier::handles<payment_completed, payment_failed, reservation_outcome, payment_refunded>;
  order_service(courier::bus& bus, tally& t) : bus_{bus}, tally_{t} {}

  void on(const payment_completed& p) {
    bus_.request<reservation>("inventory.reserve", reserve_stock{p.order_id, p.sku},
                              std::chrono::seconds{30},
                              [self = self(), p](courier::reply<reservation> r) {
                                self.send(reservation_outcome{p, r && r->reserved});
                              });
  }
  void on(const payment_failed& f) {
    tally_.declined.fetch_add(1, std::memory_order_relaxed);
    close(f.order_id, false, f.placed_at);
  }
  void on(const reservation_outcome& r) {
    if (r.reserved) return close(r.payment.order_id, true, r.payment.placed_at);
    waiting_refund_[r.payment.order_id] = r.payment.placed_at;
    (void)bus_.publish("payments.refund", refund_payment{r.payment.order_id});
  }
  void on(const payment_refunded& r) {
    auto it = waiting_refund_.find(r.order_id);
    close(r.order_id, false, it->second);
    waiting_refund_.erase(it);
  }

 private:
  void close(std::uint64_t id, bool completed, clock::time_point placed_at) {
    auto now = clock::now();
    tally_.latency_us.push_back(std::chrono::duration<double, std::micro>(now - placed_at).count());
    (completed ? tally_.completed : tally_.cancelled).fetch_add(1, std::memory_order_relaxed);
    // release: whoever sees the count also sees the latency recorded above.
    tally_.closed.fetch_add(1, std::memory_order_release);
    tally_.closed.notify_all();
    (void)bus_.publish(completed ? "orders.closed.completed" : "orders.closed.cancelled",
                       order_closed{id, completed, placed_at});
  }

  courier::bus& bus_;
  tally& tally_;
  std::unordered_map<std::uint64_t, clock::time_point> waiting_refund_;
};

/// Tells customers; a slow channel, so it keeps only the newest notices.
class notifications : public courier::actor {
 public:
  using handles = courier::handles<order_closed>;
  explicit notifications(tally& t) : tally_{t} {}
  void on(const order_closed&) { tally_.notified.fetch_add(1, std::memory_order_relaxed); }

 private:
  tally& tally_;
};

}  // namespace orders
