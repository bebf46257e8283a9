// Micro-benchmarks of the runtime's queues and of spawning.
#include <benchmark/benchmark.h>

#include <courier/runtime.hpp>
#include <courier/runtime/work_stealing_deque.hpp>
#include <vector>

namespace {

struct node : courier::mpsc_hook {};

void mailbox_push_pop(benchmark::State& state) {
  courier::mpsc_queue q;
  std::vector<node> nodes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    for (auto& n : nodes) q.push(&n);
    while (auto* n = q.pop()) benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(mailbox_push_pop)->Arg(1)->Arg(64)->Arg(4096);

void deque_push_pop(benchmark::State& state) {
  courier::work_stealing_deque<std::uint64_t> d;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < n; ++i) d.push(i);
    while (auto v = d.pop()) benchmark::DoNotOptimize(*v);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(deque_push_pop)->Arg(1)->Arg(64)->Arg(4096);

void deque_push_steal(benchmark::State& state) {
  courier::work_stealing_deque<std::uint64_t> d;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < n; ++i) d.push(i);
    while (auto v = d.steal()) benchmark::DoNotOptimize(*v);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(deque_push_steal)->Arg(1)->Arg(64)->Arg(4096);

struct nothing {};
class empty_actor : public courier::actor {
 public:
  using handles = courier::handles<nothing>;
  void on(const nothing&) {}
};

void spawn_and_release(benchmark::State& state) {
  courier::manual_executor exec;
  courier::system sys{{.exec = &exec}};
  for (auto _ : state) {
    auto ref = sys.spawn<empty_actor>();
    benchmark::DoNotOptimize(ref);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(spawn_and_release);

void send_and_handle(benchmark::State& state) {
  courier::manual_executor exec;
  courier::system sys{{.exec = &exec}};
  auto ref = sys.spawn<empty_actor>();
  for (auto _ : state) {
    ref.send(nothing{});
    exec.run_one();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(send_and_handle);

}  // namespace
