#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct wake {};

class sleeper : public courier::actor {
 public:
  using handles = courier::handles<wake>;
  explicit sleeper(courier::bench::done_flag& woke) : woke_{woke} {}
  void on(const wake&) { woke_.raise(); }

 private:
  courier::bench::done_flag& woke_;
};

}  // namespace

COURIER_BENCH("idle_cpu", "courier") {
  using namespace courier::bench;
  courier::system sys{bench_system()};
  done_flag woke;
  sys.spawn<sleeper>(woke).send(wake{});
  woke.wait();
  return measure_idle_cpu(opts);
}
