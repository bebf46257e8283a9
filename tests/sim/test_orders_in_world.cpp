// The flagship order services run unchanged in a simulated world and on a
// thread_pool, and reach the same summary.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "../../examples/orders/flow.hpp"
#include "sim/sim_support.hpp"

namespace {

using namespace courier;

/// Smaller than the example's: 10 skus (every 10th order out of stock), every
/// 13th card declined, every 7th order published twice.
const orders::flow_config config{.skus = 10, .decline_every = 13, .duplicate_every = 7, .dedupe_window = 1 << 10,
                                 .notify_capacity = 64};

/// Connects the services as the example does, places `count` orders, lets
/// `settle` run the system until they all closed, and reads the summary.
template <class Settle>
orders::summary run_orders(courier::system& sys, courier::bus& bus, std::uint64_t count, Settle settle) {
  orders::tally t;
  const orders::flow f = orders::connect(sys, bus, t, config);
  for (std::uint64_t i = 0; i < count; ++i) orders::place(bus, i, config);
  settle([&] { return t.closed.load() == count; });
  return orders::summarize(t, f);
}

}  // namespace

TEST_CASE("the order services reach the same summary in a world and on a thread_pool", "[sim][orders]") {
  constexpr std::uint64_t count = 700;
  const orders::summary expected = orders::expected(count, config);
  REQUIRE(expected.declined > 0);
  REQUIRE(expected.refunded > 0);

  const std::uint64_t seed = sim::seed_from_env(42);
  INFO("COURIER_SIM_SEED=" << seed << " " << sim_test::rerun_command());
  sim::world w{{.seed = seed}};
  const orders::summary in_world = run_orders(w.sys(), w.bus(), count, [&](auto done) {
    REQUIRE(w.run_until(done));
    w.run();
    REQUIRE(w.idle());
  });
  CHECK(in_world == expected);

  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  const orders::summary on_pool = run_orders(sys, bus, count, [&](auto done) {
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
        orders::summary s = run_orders(w.sys(), w.bus(), count, [&](auto) {
          w.run();
          idle = w.idle();
        });
        if (!idle) return "did not go idle";
        orders::summary want = orders::expected(count, config);
        want.duplicates += w.deliveries().duplicated;  // injected copies the inbox must also suppress
        if (s != want)
          return fmt::format("summary differs: completed {} cancelled {} declined {} refunded {} charged {} duplicates {}"
                             " (want {} {} {} {} {} {})",
                             s.completed, s.cancelled, s.declined, s.refunded, s.charged, s.duplicates,
                             want.completed, want.cancelled, want.declined, want.refunded, want.charged,
                             want.duplicates);
        return {};
      },
      sim_test::property(50));
}
