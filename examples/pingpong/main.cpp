// Two actors bat a ball back and forth; prints what happened and how fast.
#include <fmt/format.h>

#include <chrono>
#include <courier/runtime.hpp>
#include <future>

struct opponent {
  courier::actor_ref ref;
};
struct ball {
  long hits;
};

class player : public courier::actor {
 public:
  using handles = courier::handles<opponent, ball>;
  player(long rallies, std::promise<long>& done) : rallies_{rallies}, done_{done} {}

  void on(const opponent& o) { opponent_ = o.ref; }
  void on(const ball& b) {
    if (b.hits == rallies_) return done_.set_value(b.hits);
    opponent_.send(ball{b.hits + 1});
  }

 private:
  long rallies_;
  std::promise<long>& done_;
  courier::actor_ref opponent_;
};

int main() {
  constexpr long rallies = 2'000'000;
  courier::system sys{{.workers = 2}};
  std::promise<long> done;
  auto alice = sys.spawn<player>(rallies, done);
  auto bob = sys.spawn<player>(rallies, done);
  alice.send(opponent{bob});
  bob.send(opponent{alice});

  auto start = std::chrono::steady_clock::now();
  alice.send(ball{0});
  long hits = done.get_future().get();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

  sys.await_idle();
  fmt::print("pingpong: {} hits between 2 actors on {} workers in {:.3f} s\n", hits,
             sys.exec().concurrency(), took.count());
  fmt::print("throughput: {:.2f} M messages/s, {:.0f} ns per message\n",
             static_cast<double>(hits) / took.count() / 1e6,
             took.count() * 1e9 / static_cast<double>(hits));
  fmt::print("dead letters: {}\n", sys.dead_letters().total());
}
