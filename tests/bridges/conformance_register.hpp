#pragma once

// Registers the conformance cases a target's features enable, as Catch2 tests.

#include <deque>

namespace courier::conformance {

/// Runs one case against a freshly described target.
struct case_invoker final : Catch::ITestInvoker {
  case_invoker(std::function<target()> m, void (*f)(const target&)) : make{std::move(m)}, fn{f} {}
  void invoke() const override { fn(make()); }
  std::function<target()> make;
  void (*fn)(const target&);
};

inline int register_cases(std::function<target()> make) {
  struct entry {
    const char* name;
    bool enabled;
    void (*fn)(const target&);
  };
  const target probe = make();
  const bridge_features& f = probe.features;
  const entry cases[] = {
      {"published messages arrive with their envelope", true, publish_then_subscribe},
      {"buses that bind concurrently each receive every message", true, concurrent_subscribe},
      {"each subject's subscribers receive only that subject", true, topic_isolation},
      {"a message is neither echoed back nor sent back to its bridge", true, no_echo_no_loop},
      {"a message whose handler failed is delivered again", f.redelivery, resend_on_handler_error},
      {"unbinding a group member mid-stream loses nothing", f.consumer_groups && f.redelivery,
       nothing_lost_on_close},
      {"nothing is lost across a broker restart", f.persistent && bool(probe.restart_broker),
       nothing_lost_across_restart},
      {"messages of one key arrive in publish order", f.ordered, order_per_key},
      {"each consumer group gets every message once", f.consumer_groups, consumer_groups},
      {"request-reply answers, fails, times out and finds no responders", true, request_reply},
      {"a re-published message id is delivered once", true, dedupe},
      {"undecodable input becomes dead letters with a reason", true, bad_bytes_to_dead_letters},
  };
  static std::deque<std::string> names;  // Catch keeps references to the names
  int registered = 0;
  for (const entry& c : cases) {
    if (!c.enabled) continue;
    names.push_back(probe.name + " conformance: " + c.name);
    Catch::AutoReg(new case_invoker(make, c.fn), CATCH_INTERNAL_LINEINFO, Catch::StringRef{},
                   Catch::NameAndTags{names.back(), "[bridges][conformance]"});
    ++registered;
  }
  return registered;
}

}  // namespace courier::conformance
