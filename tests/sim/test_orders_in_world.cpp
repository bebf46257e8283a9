// The flagship order services run unchanged in a simulated world and on a
// thread_pool, and reach the same summary.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "../../examples/orders/services.hpp"
#include "sim/sim_support.hpp"

namespace {

using namespace courier;

constexpr int skus = 10;
constexpr std::uint64_t duplicate_every = 7;
/// Orders published twice out of `count`: every 7th, starting with the first.
constexpr std::uint64_t repeated(std::uint64_t count) { return (count + duplicate_every - 1) / duplicate_every; }

struct summary {
  std::uint64_t completed, cancelled, charged, refunded, duplicates, reserved;
  friend bool operator==(const summary&, const summary&) = default;
};

/// Wires the services as examples/orders/main.cpp does, publishes `count`
/// orders (every 7th twice, with the same id), lets `settle` run the system,
/// and reads the tally.
template <class Settle>
summary run_orders(courier::system& sys, courier::bus& bus, std::uint64_t count, Settle settle) {
  using namespace orders;
  tally t;
  auto pay = sys.spawn<payments>(bus, t);
  auto inv = sys.spawn<inventory>(bus, skus, skus - 1);
  auto saga = sys.spawn<order_service>(bus, t);
  auto notify = sys.spawn<notifications>(t);
  auto s1 = bus.subscribe<order_placed>("orders.*.placed", pay, {.dedupe_window = 1 << 10});
  auto s2 = bus.subscribe<refund_payment>("payments.refund", pay);
  auto s3 = bus.serve<reserve_stock>("inventory.reserve", inv);
  auto s4 = bus.subscribe<payment_completed>("payments.completed", saga);
  auto s5 = bus.subscribe<payment_refunded>("payments.refunded", saga);
  std::uint64_t reserved = 0;
  auto s7 = bus.subscribe<stock_reserved>("inventory.reserved", [&reserved](const stock_reserved&) { ++reserved; });
  auto s6 = bus.subscribe<order_closed>("orders.closed.*", notify,
                                        {.capacity = 64, .policy = overflow::drop_oldest});
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto id = uuid::v7();
    const auto subject = fmt::format("orders.{}.placed", i % 2 == 0 ? "eu" : "us");
    order_placed o{i, static_cast<int>(i % skus), 1'000, orders::clock::now()};
    (void)bus.publish(subject, o, {.id = id});
    if (i % duplicate_every == 0) (void)bus.publish(subject, o, {.id = id});
  }
  settle([&] { return t.completed.load() + t.cancelled.load() == count; });
  return summary{t.completed.load(), t.cancelled.load(), t.charged.load(), t.refunded.load(),
                 s1.value().stats().duplicates, reserved};
}

}  // namespace

TEST_CASE("the order services reach the same summary in a world and on a thread_pool", "[sim][orders]") {
  constexpr std::uint64_t count = 700;
  const summary expected{count - count / skus, count / skus, count, count / skus, repeated(count), count - count / skus};

  const std::uint64_t seed = sim::seed_from_env(42);
  INFO("COURIER_SIM_SEED=" << seed << " " << sim_test::rerun_command());
  sim::world w{{.seed = seed}};
  const summary in_world = run_orders(w.sys(), w.bus(), count, [&](auto done) {
    REQUIRE(w.run_until(done));
    w.run();
    REQUIRE(w.idle());
  });
  CHECK(in_world == expected);

  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  const summary on_pool = run_orders(sys, bus, count, [&](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    REQUIRE(done());
    REQUIRE(sys.await_idle(std::chrono::seconds{30}));
  });
  CHECK(on_pool == expected);
  CHECK(in_world == on_pool);
}

TEST_CASE("the order services survive duplicate and delay faults in a world", "[sim][orders]") {
  static constexpr std::uint64_t count = 300;
  sim_test::require_holds(
      "orders under faults",
      [](std::uint64_t seed) -> std::string {
        sim::world w{{.seed = seed}};
        w.inject("orders.*.placed", sim::duplicate{.probability = 0.3});
        w.inject("payments.>", sim::delay{.probability = 0.5, .min = {}, .max = std::chrono::milliseconds{5}});
        bool idle = false;
        const summary s = run_orders(w.sys(), w.bus(), count, [&](auto) {
          w.run();
          idle = w.idle();
        });
        if (!idle) return "did not go idle";
        if (s.charged != count) return fmt::format("charged {} of {} orders", s.charged, count);
        if (s.completed + s.cancelled != count) return "not every order closed";
        if (s.refunded != s.cancelled || s.cancelled != count / skus) return "refunds do not match cancellations";
        if (s.duplicates != repeated(count) + w.deliveries().duplicated)
          return fmt::format("inbox suppressed {} duplicates, expected {}", s.duplicates,
                             repeated(count) + w.deliveries().duplicated);
        return {};
      },
      sim_test::property(50));
}
