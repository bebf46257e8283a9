// The flagship example: an order flow of four services on the in-process bus.
//   orders.<region>.placed -> payments (inbox dedupe) -> payments.completed | payments.failed
//   completed -> order saga -> request inventory.reserve -> inventory.reserved -> closed
//   out of stock -> payments.refund -> payments.refunded -> cancelled
//   failed (card declined) -> cancelled
//   orders.closed.* -> notifications (drop_oldest backpressure)
// Orders are placed as fast as the flow takes them, with at most WINDOW open
// at once (a client with a bounded number of requests in flight), so the
// latency printed is that of the flow, not of a backlog.
// Usage: orders [ORDER_COUNT] [WINDOW]
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "flow.hpp"

namespace {

/// Blocks until at least `n` orders closed; false if `deadline` passed first.
bool await_closed(const orders::tally& t, std::uint64_t n, orders::clock::time_point deadline) {
  for (std::uint64_t seen = t.closed.load(std::memory_order_acquire); seen < n;
       seen = t.closed.load(std::memory_order_acquire)) {
    if (orders::clock::now() > deadline) return false;
    t.closed.wait(seen, std::memory_order_acquire);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace orders;
  const std::uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::uint64_t window = std::max<std::uint64_t>(1, argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 256);
  const flow_config cfg;

  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  tally t;
  t.latency_us.reserve(count);
  flow f = connect(sys, bus, t, cfg);

  const auto start = clock::now();
  const auto deadline = start + std::chrono::minutes{5};
  bool stalled = false;
  for (std::uint64_t i = 0; i < count && !stalled; ++i) {
    if (i >= window) stalled = !await_closed(t, i - window + 1, deadline);
    place(bus, i, cfg);
  }
  stalled = stalled || !await_closed(t, count, deadline);
  const std::chrono::duration<double> took = clock::now() - start;
  sys.await_idle();

  auto lat = t.latency_us;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1))]; };
  const summary s = summarize(t, f);
  const auto notices = f.notices->stats();
  fmt::print("orders: {} placed, at most {} open at once, {} duplicate deliveries injected, on {} workers\n", count,
             window, expected(count, cfg).duplicates, sys.exec().concurrency());
  fmt::print("{}", describe(s));
  fmt::print("  notifications sent {}, dropped by drop_oldest backpressure {}\n", t.notified.load(), notices.dropped);
  fmt::print("  end-to-end latency p50 {:.1f} us, p99 {:.1f} us\n", pct(0.50), pct(0.99));
  fmt::print("  dead letters {}, unroutable {}\n", sys.dead_letters().total(), bus.stats().unroutable);
  fmt::print("throughput: {:.0f} orders/s ({:.3f} s)\n", static_cast<double>(count) / took.count(), took.count());
  if (stalled) fmt::print("orders: stalled: {} of {} orders closed within 5 minutes\n", t.closed.load(), count);
  return !stalled && s == expected(count, cfg) ? 0 : 1;
}
