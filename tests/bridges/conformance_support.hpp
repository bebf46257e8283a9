#pragma once

// Message types, buses and recorders the conformance cases share.

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <courier/bus/json_codec.hpp>

#include "runtime/test_support.hpp"

namespace courier::conformance {

struct note {
  int n = 0;
  std::string text;
};
inline void to_json(nlohmann::json& j, const note& v) { j = {{"n", v.n}, {"text", v.text}}; }
inline void from_json(const nlohmann::json& j, note& v) {
  j.at("n").get_to(v.n);
  j.at("text").get_to(v.text);
}

struct ask {
  int n = 0;
};
inline void to_json(nlohmann::json& j, const ask& v) { j = {{"n", v.n}}; }
inline void from_json(const nlohmann::json& j, ask& v) { j.at("n").get_to(v.n); }

struct answer {
  int n = 0;
};
inline void to_json(nlohmann::json& j, const answer& v) { j = {{"n", v.n}}; }
inline void from_json(const nlohmann::json& j, answer& v) { j.at("n").get_to(v.n); }

/// Registers the suite's types as conformance.note/v1, conformance.ask/v1 and conformance.answer/v1.
inline void register_codecs(courier::bus& b) {
  REQUIRE(b.codecs().add<note>("conformance.note", 1, json_codec<note>{}) == errc::ok);
  REQUIRE(b.codecs().add<ask>("conformance.ask", 1, json_codec<ask>{}) == errc::ok);
  REQUIRE(b.codecs().add<answer>("conformance.answer", 1, json_codec<answer>{}) == errc::ok);
}

/// A subject root no other case or run uses: `<prefix>.<case>.<unique>`.
inline std::string fresh_root(const target& t, const std::string& case_token) {
  static std::atomic<std::uint64_t> counter{0};
  return t.prefix + "." + case_token + ".r" + std::to_string(uuid::v7().lo & 0xffffffffffULL) + "x" +
         std::to_string(counter.fetch_add(1));
}

/// One note as a subscriber saw it, with the envelope fields the cases check.
struct seen {
  note value;
  envelope env;
};

/// Collects what a local subscriber received. @threadsafe
class recorder {
 public:
  void add(const note& v) {
    const envelope* env = envelope_of(*current_message());
    std::lock_guard lock{mutex_};
    items_.push_back(seen{v, env != nullptr ? *env : envelope{}});
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock{mutex_};
    return items_.size();
  }
  [[nodiscard]] std::vector<seen> items() const {
    std::lock_guard lock{mutex_};
    return items_;
  }
  /// How many times each n arrived.
  [[nodiscard]] std::map<int, int> counts() const {
    std::map<int, int> c;
    for (const auto& s : items()) ++c[s.value.n];
    return c;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<seen> items_;
};

/// Throws on the first delivery of every note whose n is a multiple of 4.
class flaky final : public courier::actor {
 public:
  using handles = courier::handles<note>;
  explicit flaky(std::shared_ptr<recorder> r) : rec_{std::move(r)} {}
  void on(const note& v) {
    if (v.n % 4 == 0 && envelope_of(*current_message())->attempt == 1) throw std::runtime_error("first attempt fails");
    rec_->add(v);
  }

 private:
  std::shared_ptr<recorder> rec_;
};

/// Answers ask{n} with answer{2n}; throws for a negative n.
class doubler final : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  answer on(const ask& a) {
    if (a.n < 0) throw std::runtime_error("negative input");
    return {a.n * 2};
  }
};

/// Takes requests and never answers.
class silent final : public courier::actor {
 public:
  using handles = courier::handles<ask>;
  void on(const ask&) {}
};

/// A bus on its own two-worker system, with its own bridge to the target's broker.
/// Bindings and subscriptions are members declared after the bus, so they go first.
struct node {
  explicit node(const target& t) : br{t.connect(sys)} {
    REQUIRE(br != nullptr);
    register_codecs(bus);
  }
  /// Binds `pattern` in direction `d`; the binding lives as long as the node.
  bridge_binding& bind(const std::string& pattern, bridge_direction d, const bridge_binding_options& o = {}) {
    auto b = bus.bridge(pattern, br, d, o);
    REQUIRE(b);
    std::lock_guard lock{mutex};
    return bindings.emplace_back(std::move(b).value());
  }
  /// Records every note on `pattern`.
  std::shared_ptr<recorder> record(const std::string& pattern) {
    auto rec = std::make_shared<recorder>();
    keep(bus.subscribe<note>(pattern, [rec](const note& v) { rec->add(v); }));
    return rec;
  }
  void keep(result<subscription> s) {
    REQUIRE(s);
    std::lock_guard lock{mutex};
    subs.push_back(std::move(s).value());
  }

  courier::system sys{{.workers = 2}};
  courier::bus bus{sys};
  std::shared_ptr<courier::bridge> br;
  std::mutex mutex;
  std::deque<bridge_binding> bindings;
  std::vector<subscription> subs;
};

/// Waits for `pred` up to the target's wait.
template <class Pred>
bool eventually(const target& t, Pred&& pred) {
  return courier::test::wait_for(std::forward<Pred>(pred), t.wait);
}

}  // namespace courier::conformance
