// A worker that fails on some inputs, restarted with backoff, while its
// caller never notices: every request gets its reply.
//
// The worker asks a flaky backend for each input. The backend fails the first
// time it sees a multiple of 4 (a cold cache that times out). The exception
// goes to the worker's supervision: the worker restarts after a backoff, at
// the same address, with its mailbox intact. The failed request comes back as
// a dead letter with reason `failed`, and the service's redelivery sink sends
// it to the worker again, so the caller only ever sees replies.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

#include <courier/runtime.hpp>

using namespace std::chrono_literals;

namespace {

std::mutex print_mutex;
template <class... Args>
void say(const char* fmt, Args... args) {
  std::lock_guard lock{print_mutex};
  std::printf(fmt, args...);
  std::printf("\n");
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

struct job {
  int n;
  courier::actor_ref reply_to;
};
struct result {
  int n;
  long value;
};

// Outlives every worker instance, like a real remote dependency.
class flaky_backend {
 public:
  long square(int n) {
    std::lock_guard lock{mutex_};
    if (n % 4 == 0 && warmed_.insert(n).second) throw std::runtime_error{"backend timed out on " + std::to_string(n)};
    return static_cast<long>(n) * n;
  }

 private:
  std::mutex mutex_;
  std::set<int> warmed_;
};

struct stats {
  std::atomic<int> instances{0};
  std::atomic<int> failures{0};
  std::chrono::steady_clock::time_point last_failure{};
};

class worker : public courier::actor {
 public:
  using handles = courier::handles<job>;
  worker(flaky_backend* backend, stats* s) : backend_{backend}, stats_{s} {
    const int k = ++stats_->instances;
    if (k == 1)
      say("  worker instance #1 started");
    else
      say("  worker instance #%d started, %.1f ms after the failure (same address, mailbox kept)", k,
          ms_since(stats_->last_failure));
  }
  void on(const job& j) {
    try {
      j.reply_to.send(result{j.n, backend_->square(j.n)});
    } catch (const std::exception& e) {
      ++stats_->failures;
      stats_->last_failure = std::chrono::steady_clock::now();
      say("  input %d: worker failed (%s)", j.n, e.what());
      throw;  // to supervision
    }
  }

 private:
  flaky_backend* backend_;
  stats* stats_;
};

struct start {};

class caller : public courier::actor {
 public:
  using handles = courier::handles<start, result>;
  caller(courier::actor_ref worker, int count, std::atomic<int>* replies)
      : worker_{std::move(worker)}, count_{count}, replies_{replies} {}
  void on(const start&) {
    for (int n = 1; n <= count_; ++n) {
      say("caller: input %d", n);
      worker_.send(job{n, self()});
    }
  }
  void on(const result& r) {
    say("caller: reply %d -> %ld", r.n, r.value);
    replies_->fetch_add(1);
    replies_->notify_all();
  }

 private:
  courier::actor_ref worker_;
  int count_;
  std::atomic<int>* replies_;
};

}  // namespace

int main() {
  constexpr int inputs = 20;
  flaky_backend backend;
  stats s;
  std::atomic<int> replies{0};
  courier::system sys{{.workers = 2}};

  // The service's redelivery policy: a job its worker failed on goes back to
  // the same address, up to three times.
  std::mutex attempts_mutex;
  std::map<const courier::message*, int> attempts;
  auto redelivery = sys.subscribe_dead_letters([&](const courier::dead_letter& d) {
    if (d.reason != courier::dead_letter_reason::failed) return;
    {
      std::lock_guard lock{attempts_mutex};
      if (++attempts[d.msg.get()] > 3) return;
    }
    d.receiver.send_shared(d.msg);
  });

  auto w = sys.spawn<worker>(
      courier::supervision{
          .on_failure = courier::strategy::restart_with_backoff,
          .backoff = {.min = 5ms, .max = 100ms, .multiplier = 2.0, .jitter = 0.2, .reset_after = 1s},
          .intensity = {.max_restarts = 10, .within = 10s}},
      &backend, &s);
  auto c = sys.spawn<caller>(w, inputs, &replies);
  c.send(start{});

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int got = replies.load(); got < inputs && std::chrono::steady_clock::now() < deadline; got = replies.load())
    replies.wait(got);
  sys.await_idle(1s);

  say("summary: %d inputs, %d failures, %d restarts, %d replies received, %llu dead letters",
      inputs, s.failures.load(), s.instances.load() - 1, replies.load(),
      static_cast<unsigned long long>(sys.dead_letters().total()));
  return replies.load() == inputs ? 0 : 1;
}
