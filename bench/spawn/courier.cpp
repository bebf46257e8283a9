#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct hello {};
struct go {};

class worker : public courier::actor {
 public:
  using handles = courier::handles<hello>;
  explicit worker(std::atomic<std::uint64_t>& left, courier::bench::done_flag& done)
      : left_{left}, done_{done} {}
  void on(const hello&) {
    stop();
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.raise();
  }

 private:
  std::atomic<std::uint64_t>& left_;
  courier::bench::done_flag& done_;
};

/// Spawns the actors from inside the system, as a service would.
class spawner : public courier::actor {
 public:
  using handles = courier::handles<go>;
  spawner(std::uint64_t n, std::atomic<std::uint64_t>& left, courier::bench::done_flag& done)
      : n_{n}, left_{left}, done_{done} {}
  void on(const go&) {
    for (std::uint64_t i = 0; i < n_; ++i) spawn<worker>(left_, done_).send(hello{});
  }

 private:
  std::uint64_t n_;
  std::atomic<std::uint64_t>& left_;
  courier::bench::done_flag& done_;
};

}  // namespace

COURIER_BENCH("spawn", "courier") {
  using namespace courier::bench;
  const std::uint64_t n = workload::spawn_actors(opts);
  courier::system sys{bench_system()};
  std::atomic<std::uint64_t> left{n};
  done_flag done;
  auto start = clock_type::now();
  sys.spawn<spawner>(n, left, done).send(go{});
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = n;
  return r;
}
