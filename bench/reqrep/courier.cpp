// reqrep with a callback requester: each reply comes back as a message.
#include "reqrep/courier_workload.hpp"

namespace {

using courier::bench::clock_type;
using namespace courier::bench::reqrep;

/// A reply (or its error) forwarded to the requester as a message.
struct outcome {
  courier::reply<answer> r;
};

/// Sends one request at a time and times each round trip until the reply is handled here.
class requester final : public courier::actor {
 public:
  using handles = courier::handles<outcome>;
  requester(courier::bus& bus, std::uint64_t rounds, tally& t) : bus_{bus}, rounds_{rounds}, tally_{t} {
    ask_next();
  }
  void on(const outcome& o) {
    tally_.lat.add(clock_type::now() - sent_at_);
    if (!o.r || o.r->y != completed_ + 1) ++tally_.failures;
    if (++completed_ == rounds_) return tally_.done.raise();
    ask_next();
  }

 private:
  void ask_next() {
    sent_at_ = clock_type::now();
    bus_.request<answer>("reqrep", ask{completed_}, std::chrono::seconds{5},
                         [me = self()](courier::reply<answer> r) { me.send(outcome{std::move(r)}); });
  }

  courier::bus& bus_;
  std::uint64_t rounds_;
  tally& tally_;
  std::uint64_t completed_ = 0;
  clock_type::time_point sent_at_{};
};

}  // namespace

COURIER_BENCH("reqrep", "courier") { return run<requester>(opts, "courier"); }
