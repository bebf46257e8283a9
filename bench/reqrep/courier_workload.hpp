// What both Courier reqrep implementations share: the request and its reply,
// the server, and the run around a requester that asks one request at a time.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "bus_support.hpp"

namespace courier::bench::reqrep {

struct ask {
  std::uint64_t x;
};
struct answer {
  std::uint64_t y;
};

class server final : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  answer on(const ask& a) { return {a.x + 1}; }
};

/// Where a requester records each round trip, and says when it is done.
struct tally {
  explicit tally(std::uint64_t rounds) : lat{rounds} {}
  latency_samples lat;
  std::uint64_t failures = 0;  // written by the requester only
  done_flag done;
};

/// Serves "reqrep", spawns `Requester(bus, rounds, tally&)`, which starts
/// asking at once, and times the rounds until it raises done.
template <class Requester>
result run(const options& opts, const std::string& impl) {
  const std::uint64_t rounds = workload::reqrep_round_trips(opts);
  courier::system sys{bench_system()};
  courier::bus bus{sys};
  tally t{rounds};
  auto srv = bus.serve<ask>("reqrep", sys.spawn<server>()).value();
  const auto start = clock_type::now();
  auto client = sys.spawn<Requester>(bus, rounds, t);
  t.done.wait();
  result r;
  r.seconds = seconds_since(start);
  r.ops = rounds;
  t.lat.fill(r);
  if (t.failures != 0) throw std::runtime_error("reqrep/" + impl + ": failed or wrong replies");
  return r;
}

}  // namespace courier::bench::reqrep
