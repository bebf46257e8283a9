#pragma once

// The conformance suite every bridge passes, modelled on Watermill's
// universal Pub/Sub tests. A test file describes its broker as a `target`
// and registers the suite once:
//
//     courier::conformance::target make_target() {
//       return {.name = "nats core", .connect = connect_fn, .features = {...}};
//     }
//     COURIER_BRIDGE_CONFORMANCE(make_target);
//
// Only the cases the target's features enable are registered (test names
// start with "<name> conformance: "). make_target must be cheap: it is called
// once at start-up to read the features, and again at the start of every
// case. Connecting (and starting a server, if the target needs one) happens
// in target.connect, which is called once per bus in a case.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <courier/courier.hpp>

namespace courier::conformance {

/// The broker under test.
struct target {
  std::string name;
  /// A bridge connected to the broker, for one bus running on `sys`.
  std::function<std::shared_ptr<courier::bridge>(courier::system& sys)> connect;
  /// Restarts the broker, keeping what it persisted; empty if it cannot.
  std::function<void()> restart_broker = {};
  /// What the broker guarantees; must match connect()'s bridges' features().
  courier::bridge_features features = {};
  /// Subjects of every case start with this token.
  std::string prefix = "conformance";
  /// How long a case waits for a condition before it fails.
  std::chrono::milliseconds wait = std::chrono::seconds{10};
};

/// Registers every case `make()`'s features enable; returns how many.
int register_cases(std::function<target()> make);

}  // namespace courier::conformance

#define COURIER_CONFORMANCE_CAT2(a, b) a##b
#define COURIER_CONFORMANCE_CAT(a, b) COURIER_CONFORMANCE_CAT2(a, b)

/// Registers the conformance suite for the target `make_target()` describes;
/// may be used several times in one file, once per line.
#define COURIER_BRIDGE_CONFORMANCE(make_target)                                                    \
  namespace {                                                                                      \
  const int COURIER_CONFORMANCE_CAT(courier_conformance_cases_, __LINE__) =                        \
      ::courier::conformance::register_cases(make_target);                                         \
  }

#include "bridges/conformance_support.hpp"
#include "bridges/conformance_cases.hpp"
