#include <vector>

#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct poke {};

class idle : public courier::actor {
 public:
  using handles = courier::handles<poke>;
  void on(const poke&) {}
};

}  // namespace

COURIER_BENCH("idle_memory", "courier") {
  using namespace courier::bench;
  const std::uint64_t n = workload::idle_actors(opts);
  courier::system sys{bench_system()};
  std::vector<courier::actor_ref> refs(n);  // touched before the baseline is taken
  const std::size_t before = resident_bytes();
  auto start = clock_type::now();
  for (auto& ref : refs) ref = sys.spawn<idle>();
  result r;
  r.seconds = seconds_since(start);
  r.ops = n;
  r.bytes_per_actor = static_cast<double>(resident_bytes() - before) / static_cast<double>(n);
  return r;
}
