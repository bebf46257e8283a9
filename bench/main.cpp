// courier-bench: runs one scenario for one implementation and prints one JSON
// line, or (--compare) runs every implementation of a scenario several times,
// each in a fresh process, and prints the medians and the ratios to ours.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>
#include <stdexcept>
#include <string>
#include <tuple>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "harness.hpp"

namespace courier::bench {

std::vector<entry>& registry() {
  static std::vector<entry> all;
  return all;
}

registration::registration(const char* scenario, const char* impl, scenario_fn fn) {
  registry().push_back({scenario, impl, fn});
}

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

result measure_idle_cpu(const options& o) {
  const double cpu_before = cpu_seconds();
  const auto start = clock_type::now();
  // Sleeping is the measurement here: the runtime must stay quiet meanwhile.
  std::this_thread::sleep_for(workload::idle_window(o));
  result r;
  r.seconds = seconds_since(start);
  r.ops = 1;
  r.extra.emplace_back("cpu_percent", 100.0 * (cpu_seconds() - cpu_before) / r.seconds);
  return r;
}

namespace {

// Scenarios whose Courier implementation reads options::metrics.
bool supports_metrics(const entry& e) { return e.scenario == "pingpong" && e.impl == "courier"; }

std::string to_json(const entry& e, const result& r, bool metrics) {
  std::string s = fmt::format(R"({{"scenario":"{}","impl":"{}","ops":{},"seconds":{:.6f},"ops_per_sec":{:.1f})",
                              e.scenario, e.impl, r.ops, r.seconds,
                              r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0.0);
  if (metrics && supports_metrics(e)) s += R"(,"metrics":true)";
  if (r.p50_ns) s += fmt::format(R"(,"p50_ns":{:.1f})", *r.p50_ns);
  if (r.p99_ns) s += fmt::format(R"(,"p99_ns":{:.1f})", *r.p99_ns);
  if (r.bytes_per_actor) s += fmt::format(R"(,"bytes_per_actor":{:.1f})", *r.bytes_per_actor);
  for (const auto& [k, v] : r.extra) s += fmt::format(R"(,"{}":{:.6g})", k, v);
  return s + "}";
}

/// Reads a numeric field from one of our own JSON lines.
std::optional<double> field(const std::string& json, const std::string& key) {
  auto pos = json.find("\"" + key + "\":");
  if (pos == std::string::npos) return std::nullopt;
  return std::stod(json.substr(pos + key.size() + 3));
}

std::string run_child(const std::string& self, const entry& e, bool quick, bool metrics) {
  std::string cmd = fmt::format("'{}' --scenario {} --impl {}{}{}", self, e.scenario, e.impl,
                                quick ? " --quick" : "", metrics ? " --metrics" : "");
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (::pclose(p) != 0) throw std::runtime_error("failed: " + cmd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// The figure a scenario is judged by: latency for reqrep, memory for
/// idle_memory, throughput otherwise. `lower_is_better` is set accordingly.
std::string headline(const std::string& scenario, bool& lower_is_better) {
  lower_is_better = scenario == "idle_memory" || scenario == "reqrep" || scenario == "idle_cpu";
  if (scenario == "idle_memory") return "bytes_per_actor";
  if (scenario == "idle_cpu") return "cpu_percent";
  if (scenario == "reqrep") return "p50_ns";
  return "ops_per_sec";
}

// With `metrics`, every implementation that supports it also runs with
// metrics on, reported as "<impl>_metrics", so the summary gives the ratio.
int compare(const std::string& self, const std::string& scenario, int runs, bool quick, bool metrics) {
  std::map<std::string, std::vector<double>> figures;
  // Rounds interleave the implementations, so a burst of load on a noisy
  // machine lands on all of them rather than on one implementation's runs.
  for (int i = 0; i < runs; ++i) {
    for (const entry& e : registry()) {
      if (scenario != "all" && e.scenario != scenario) continue;
      bool lower = false;
      std::string key = headline(e.scenario, lower);
      for (bool on : {false, true}) {
        if (on && !(metrics && supports_metrics(e))) continue;
        std::string line = run_child(self, e, quick, on);
        std::puts(line.c_str());
        std::fflush(stdout);
        if (auto v = field(line, key)) figures[e.scenario + "/" + e.impl + (on ? "_metrics" : "")].push_back(*v);
      }
    }
  }
  std::map<std::string, double> medians;
  for (auto& [k, v] : figures) medians[k] = median(v);
  for (const auto& [k, ours] : medians) {
    auto slash = k.find('/');
    std::string sc = k.substr(0, slash);
    if (k.substr(slash + 1) != "courier") continue;
    bool lower = false;
    std::string key = headline(sc, lower);
    std::string s = fmt::format(R"({{"summary":"{}","metric":"{}","runs":{},"courier":{:.6g})", sc, key, runs, ours);
    for (const auto& [k2, theirs] : medians) {
      if (k2.rfind(sc + "/", 0) != 0 || k2 == k) continue;
      const double num = lower ? theirs : ours, den = lower ? ours : theirs;
      // A zero (an idle runtime that burnt no measurable CPU) has no finite ratio.
      const std::string ratio = den > 0 ? fmt::format("{:.3f}", num / den) : "null";
      s += fmt::format(R"(,"{}":{:.6g},"courier_vs_{}":{})", k2.substr(slash + 1), theirs,
                       k2.substr(slash + 1), ratio);
    }
    std::puts((s + "}").c_str());
  }
  return 0;
}

int usage() {
  std::fputs(
      "usage: courier-bench --scenario NAME --impl IMPL [--quick] [--metrics]\n"
      "       courier-bench --compare NAME|all [--runs N] [--quick] [--metrics]\n"
      "       courier-bench --list\n",
      stderr);
  return 2;
}

}  // namespace
}  // namespace courier::bench

int main(int argc, char** argv) {
  using namespace courier::bench;
  std::string scenario, impl, compare_what;
  bool quick = false, list = false, metrics = false;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--scenario") scenario = value();
    else if (a == "--impl") impl = value();
    else if (a == "--compare") compare_what = value();
    else if (a == "--runs") runs = std::max(1, std::atoi(value().c_str()));
    else if (a == "--quick") quick = true;
    else if (a == "--metrics") metrics = true;
    else if (a == "--list") list = true;
    else return usage();
  }
  auto& all = registry();
  std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) {
    return std::tie(a.scenario, a.impl) < std::tie(b.scenario, b.impl);
  });
  if (list) {
    for (const entry& e : all) std::printf("%s %s\n", e.scenario.c_str(), e.impl.c_str());
    return 0;
  }
  try {
    if (!compare_what.empty()) {
      char self[4096];
      ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
      if (n <= 0) throw std::runtime_error("cannot find my own executable");
      return compare(std::string(self, static_cast<std::size_t>(n)), compare_what, runs, quick, metrics);
    }
    for (const entry& e : all) {
      if (e.scenario != scenario || e.impl != impl) continue;
      result r = e.fn(options{.quick = quick, .metrics = metrics});
      std::puts(to_json(e, r, metrics).c_str());
      return 0;
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "courier-bench: %s\n", ex.what());
    return 1;
  }
  std::fprintf(stderr, "courier-bench: no scenario '%s' with impl '%s' (try --list)\n", scenario.c_str(),
               impl.c_str());
  return 2;
}
