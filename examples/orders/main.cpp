// The flagship example: an order flow of four services on the in-process bus.
//   orders.<region>.placed -> payments (inbox dedupe) -> payments.completed
//   -> order saga -> request inventory.reserve -> inventory.reserved -> closed
//   out of stock -> payments.refund -> payments.refunded -> cancelled
//   orders.closed.* -> notifications (drop_oldest backpressure)
// Usage: orders [ORDER_COUNT]
#include <fmt/format.h>

#include <cstdlib>
#include <thread>

#include "services.hpp"

int main(int argc, char** argv) {
  using namespace orders;
  const std::uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  constexpr int skus = 50;
  constexpr int duplicate_every = 50;  // the network "redelivers" every 50th order
  const char* regions[] = {"eu", "us", "apac"};

  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  tally t;
  t.latency_us.reserve(count);

  auto pay = sys.spawn<payments>(bus, t);
  auto inv = sys.spawn<inventory>(bus, skus, skus - 1);
  auto saga = sys.spawn<order_service>(bus, t);
  auto notify = sys.spawn<notifications>(t);

  auto s1 = bus.subscribe<order_placed>("orders.*.placed", pay, {.dedupe_window = 1 << 16});
  auto s2 = bus.subscribe<refund_payment>("payments.refund", pay);
  auto s3 = bus.serve<reserve_stock>("inventory.reserve", inv);
  auto s4 = bus.subscribe<payment_completed>("payments.completed", saga);
  auto s5 = bus.subscribe<payment_refunded>("payments.refunded", saga);
  std::atomic<std::uint64_t> reserved{0};
  auto s7 = bus.subscribe<stock_reserved>("inventory.reserved", [&reserved](const stock_reserved&) {
    reserved.fetch_add(1, std::memory_order_relaxed);
  });
  auto s6 = bus.subscribe<order_closed>("orders.closed.*", notify,
                                        {.capacity = 1024, .policy = courier::overflow::drop_oldest});

  auto start = clock::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    auto id = courier::uuid::v7();
    const auto subject = fmt::format("orders.{}.placed", regions[i % 3]);
    order_placed o{i, static_cast<int>(i % skus), 990 + static_cast<long>(i % 7), clock::now()};
    (void)bus.publish(subject, o, {.id = id});
    if (i % duplicate_every == 0) (void)bus.publish(subject, o, {.id = id});
  }
  auto closed = [&] { return t.completed.load() + t.cancelled.load(); };
  const auto deadline = clock::now() + std::chrono::minutes{5};
  while (closed() < count && clock::now() < deadline) std::this_thread::yield();
  std::chrono::duration<double> took = clock::now() - start;
  sys.await_idle();

  auto lat = t.latency_us;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[static_cast<std::size_t>(p * (lat.size() - 1))]; };
  const auto st = s6.value().stats();
  fmt::print("orders: {} placed ({} duplicate deliveries injected) on {} workers\n", count,
             (count + duplicate_every - 1) / duplicate_every, sys.exec().concurrency());
  fmt::print("  completed {}, cancelled {} (out of stock: refunded {}), stock reserved {}\n",
             t.completed.load(), t.cancelled.load(), t.refunded.load(), reserved.load());
  fmt::print("  payments charged {}, duplicates suppressed by the inbox {}\n", t.charged.load(),
             s1.value().stats().duplicates);
  fmt::print("  notifications sent {}, dropped by drop_oldest backpressure {}\n", t.notified.load(),
             st.dropped);
  fmt::print("  end-to-end latency p50 {:.1f} us, p99 {:.1f} us\n", pct(0.50), pct(0.99));
  fmt::print("  dead letters {}, unroutable {}\n", sys.dead_letters().total(), bus.stats().unroutable);
  fmt::print("throughput: {:.0f} orders/s ({:.3f} s)\n", static_cast<double>(count) / took.count(),
             took.count());
  return closed() == count && t.charged.load() == count ? 0 : 1;
}
