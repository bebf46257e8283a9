#include <stdexcept>

#include "courier_support.hpp"
#include "harness.hpp"

namespace {

struct kickoff {};
struct partial {
  std::uint64_t sum;
};

/// A node of the skynet tree: a leaf reports its number, an inner node
/// spawns ten children and reports the sum of their reports.
class node : public courier::actor {
 public:
  using handles = courier::handles<kickoff, partial>;
  node(courier::actor_ref parent, std::uint64_t num, std::uint64_t size,
       courier::bench::done_flag* done, std::uint64_t* out)
      : parent_{std::move(parent)}, num_{num}, size_{size}, done_{done}, out_{out} {}
  void on(const kickoff&) {
    if (size_ == 1) return report(num_);
    const std::uint64_t child = size_ / courier::bench::workload::skynet_fan_out;
    for (std::uint64_t i = 0; i < courier::bench::workload::skynet_fan_out; ++i)
      spawn<node>(self(), num_ + i * child, child, nullptr, nullptr).send(kickoff{});
  }
  void on(const partial& p) {
    sum_ += p.sum;
    if (++pending_ == courier::bench::workload::skynet_fan_out) report(sum_);
  }

 private:
  void report(std::uint64_t sum) {
    if (parent_) parent_.send(partial{sum});
    else {
      *out_ = sum;
      done_->raise();
    }
    stop();
  }

  courier::actor_ref parent_;
  std::uint64_t num_;
  std::uint64_t size_;
  courier::bench::done_flag* done_;
  std::uint64_t* out_;
  std::uint64_t sum_ = 0;
  std::uint64_t pending_ = 0;
};

}  // namespace

COURIER_BENCH("skynet", "courier") {
  using namespace courier::bench;
  std::uint64_t leaves = 1;
  for (int i = 0; i < workload::skynet_depth(opts); ++i) leaves *= workload::skynet_fan_out;
  courier::system sys{bench_system()};
  done_flag done;
  std::uint64_t sum = 0;
  auto start = clock_type::now();
  sys.spawn<node>(courier::actor_ref{}, 0, leaves, &done, &sum).send(kickoff{});
  done.wait();
  result r;
  r.seconds = seconds_since(start);
  if (sum != leaves * (leaves - 1) / 2) throw std::runtime_error("skynet: wrong sum");
  r.ops = leaves + (leaves - 1) / 9;  // every actor of the tree
  return r;
}
