// Moving one service out of the monolith without touching its code.
//
//   migration [ORDERS]                      one process, in-process bus (the orders flow)
//   migration [ORDERS] --split payments --nats URL
//                                           payments runs in a second process (this
//                                           program, started with --serve payments);
//                                           the two are joined by NATS
//
// Either way the same services from examples/orders run and the same summary
// prints; the exit code says whether it is the summary a correct run reaches.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "wire.hpp"

extern char** environ;

namespace {

using namespace orders;
using namespace std::chrono_literals;

struct args {
  std::uint64_t count = 1000;
  std::string split;  ///< The service to move out ("payments"), or empty for the monolith.
  std::string serve;  ///< Set in the process that hosts the moved service.
  std::string nats_url;
};

args parse(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (s == "--split") a.split = value();
    else if (s == "--serve") a.serve = value();
    else if (s == "--nats") a.nats_url = value();
    else a.count = std::strtoull(s.c_str(), nullptr, 10);
  }
  if ((!a.split.empty() || !a.serve.empty()) && a.nats_url.empty())
    throw std::invalid_argument("--split and --serve need --nats URL");
  if (!a.split.empty() && a.split != "payments") throw std::invalid_argument("only payments can be split out");
  return a;
}

/// Answers the report query with the payments process's counters.
class reporter : public courier::actor {
 public:
  using handles = courier::handles<payments_report_query>;
  reporter(const tally& t, const flow& f) : tally_{t}, flow_{f} {}
  payments_report on(const payments_report_query&) {
    return {tally_.charged.load(), tally_.refunded.load(), flow_.inbox->stats().duplicates};
  }

 private:
  const tally& tally_;
  const flow& flow_;
};

/// A bridge to the NATS server at `url`, its connection named `name`.
std::shared_ptr<courier::nats_bridge> connect_nats(const std::string& url, const char* name) {
  // Filled field by field: g++ 12 at -O3 takes the designated-initialiser
  // temporary's untouched strings for uninitialised (-Wmaybe-uninitialized).
  courier::nats_config cfg;
  cfg.url = url;
  cfg.name = name;
  return std::make_shared<courier::nats_bridge>(std::move(cfg));
}

/// The payments process: payments alone, fed by and feeding NATS, until told to stop.
int serve_payments(const args& a) {
  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  register_codecs(bus);
  tally t;
  flow f = connect(sys, bus, t, {.here = payments_service});
  auto nats = connect_nats(a.nats_url, "payments");
  std::vector<courier::bridge_binding> bindings;
  bind_all(bus, nats, from_payments, courier::bridge_direction::out, bindings);
  std::atomic<bool> stop{false};
  auto report = bus.serve<payments_report_query>("migration.payments.report", sys.spawn<reporter>(t, f));
  auto stopper = bus.subscribe<payments_stop>("migration.payments.stop", [&stop](const payments_stop&) {
    stop.store(true);
    stop.notify_all();
  });
  // Inbound last: once the report subject answers, every subscription is in place.
  bind_all(bus, nats, to_payments, courier::bridge_direction::in, bindings);
  stop.wait(false);
  sys.await_idle();
  return 0;
}

/// Starts this program as the payments process.
pid_t spawn_payments(const std::string& url) {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw std::runtime_error("cannot find my own executable");
  self[n] = '\0';
  std::string serve = "--serve", what = "payments", flag = "--nats", u = url;
  char* argv[] = {self, serve.data(), what.data(), flag.data(), u.data(), nullptr};
  pid_t pid = -1;
  if (::posix_spawn(&pid, self, nullptr, nullptr, argv, environ) != 0) throw std::runtime_error("spawn failed");
  return pid;
}

/// Asks the payments process for its counters, retrying while it is not up yet.
payments_report ask_payments(courier::bus& bus, clock::time_point deadline) {
  for (;;) {
    auto r = bus.request<payments_report>("migration.payments.report", payments_report_query{}, 2s).get();
    if (r) return *r;
    if (clock::now() > deadline) throw std::runtime_error(std::string{"payments: "} + courier::to_string(r.error()));
    std::this_thread::sleep_for(20ms);  // the payments process is still starting
  }
}

/// Waits until `n` orders closed; false if `deadline` passed first.
bool all_closed(const tally& t, std::uint64_t n, clock::time_point deadline) {
  for (auto seen = t.closed.load(); seen < n; seen = t.closed.load()) {
    if (clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // progress check, the flow runs on other threads
  }
  return true;
}

int run(const args& a) {
  const bool split = !a.split.empty();
  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  register_codecs(bus);
  tally t;
  flow_config cfg;
  if (split) cfg.here = all_services & ~payments_service;
  flow f = connect(sys, bus, t, cfg);
  std::shared_ptr<courier::nats_bridge> nats;
  std::vector<courier::bridge_binding> bindings;
  pid_t child = -1;
  const auto deadline = clock::now() + 2min;
  if (split) {
    nats = connect_nats(a.nats_url, "orders");
    bind_all(bus, nats, from_payments, courier::bridge_direction::in, bindings);
    bind_all(bus, nats, to_payments, courier::bridge_direction::out, bindings);
    child = spawn_payments(a.nats_url);
    (void)ask_payments(bus, deadline);
  }
  for (std::uint64_t i = 0; i < a.count; ++i) place(bus, i, cfg);
  const bool done = all_closed(t, a.count, deadline);
  sys.await_idle();
  summary s = summarize(t, f);
  if (split) {
    const payments_report r = ask_payments(bus, deadline);
    s.charged = r.charged;
    s.refunded = r.refunded;
    s.duplicates = r.duplicates;
    (void)bus.publish("migration.payments.stop", payments_stop{});
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  fmt::print("migration: {} orders, {}\n", a.count, split ? "payments in its own process over NATS" : "one process");
  fmt::print("{}", describe(s));
  return done && s == expected(a.count, cfg) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const args a = parse(argc, argv);
    return a.serve == "payments" ? serve_payments(a) : run(a);
  } catch (const std::exception& e) {
    fmt::print(stderr, "migration: {}\n", e.what());
    return 2;
  }
}
