#include <thread>
#include <vector>

#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct item {
  std::uint64_t value;
};

class sink : public courier::actor {
 public:
  using handles = courier::handles<item>;
  sink(std::uint64_t expected, courier::bench::done_flag& done) : expected_{expected}, done_{done} {}
  void on(const item& i) {
    sum_ += i.value;
    if (++seen_ == expected_) done_.raise();
  }

 private:
  std::uint64_t expected_;
  std::uint64_t seen_ = 0;
  std::uint64_t sum_ = 0;
  courier::bench::done_flag& done_;
};

}  // namespace

COURIER_BENCH("n1", "courier") {
  using namespace courier::bench;
  const std::uint64_t per = workload::n1_per_producer(opts);
  const std::uint64_t total = per * workload::n1_producers;
  courier::system sys{bench_system()};
  done_flag done;
  auto target = sys.spawn<sink>(total, done);
  auto start = clock_type::now();
  std::vector<std::thread> producers;
  for (int p = 0; p < workload::n1_producers; ++p)
    producers.emplace_back([&] {
      for (std::uint64_t i = 0; i < per; ++i) target.send(item{i});
    });
  for (auto& t : producers) t.join();
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = total;
  return r;
}
