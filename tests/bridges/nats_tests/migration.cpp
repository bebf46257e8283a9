// examples/migration: moving payments into its own process over NATS changes
// nothing in the summary the order flow prints.
#include <catch2/catch.hpp>

#include <cstdio>

#include "bridges/nats_support.hpp"

#ifdef COURIER_MIGRATION_EXE

namespace {

struct run_result {
  int status = -1;
  std::string out;
};

run_result run(const std::string& args) {
  const std::string cmd = std::string{"'"} + COURIER_MIGRATION_EXE + "' " + args + " 2>&1";
  run_result r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.out += buf;
  r.status = ::pclose(p);
  return r;
}

/// The summary lines: everything after the first line, which names the mode.
std::string summary_of(const std::string& out) { return out.substr(out.find('\n') + 1); }

}  // namespace

TEST_CASE("migration: payments split out over NATS prints the monolith's summary") {
  courier::testing::nats_server server;
  const auto mono = run("500");
  const auto split = run("500 --split payments --nats " + server.url());
  INFO("monolith:\n" << mono.out << "split:\n" << split.out);
  CHECK(mono.status == 0);
  CHECK(split.status == 0);
  CHECK(split.out.find("own process over NATS") != std::string::npos);
  CHECK(summary_of(mono.out).find("completed") != std::string::npos);
  CHECK(summary_of(split.out) == summary_of(mono.out));
}

#endif
