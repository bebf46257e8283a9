// What crosses the process boundary once payments moves out: the JSON form of
// the messages payments consumes and produces, and the bindings each side makes.
#pragma once

#include <courier/bridge/nats/nats_bridge.hpp>
#include <courier/bus/bridge_binding.hpp>
#include <courier/bus/codec.hpp>
#include <courier/bus/json_codec.hpp>
#include <span>
#include <stdexcept>
#include <vector>

#include "../orders/flow.hpp"

namespace orders {

/// Asks the payments process for its counters (request-reply over NATS).
struct payments_report_query {};
/// The payments process's share of the summary.
struct payments_report {
  std::uint64_t charged = 0, refunded = 0, duplicates = 0;
};
/// Tells the payments process the run is over.
struct payments_stop {};

/// A steady-clock time as nanoseconds: both processes share the machine's monotonic clock.
inline clock::rep ticks(clock::time_point t) { return t.time_since_epoch().count(); }
inline clock::time_point time_at(const nlohmann::json& j, const char* field) {
  return clock::time_point{clock::duration{j.at(field).get<clock::rep>()}};
}

// The payload fields, by name, for services written in other languages.
inline void to_json(nlohmann::json& j, const order_placed& o) {
  j = {{"order_id", o.order_id}, {"sku", o.sku}, {"cents", o.cents}, {"placed_at", ticks(o.placed_at)}};
}
inline void from_json(const nlohmann::json& j, order_placed& o) {
  o = {j.at("order_id").get<std::uint64_t>(), j.at("sku").get<int>(), j.at("cents").get<long>(),
       time_at(j, "placed_at")};
}
inline void to_json(nlohmann::json& j, const payment_completed& p) {
  j = {{"order_id", p.order_id}, {"sku", p.sku}, {"placed_at", ticks(p.placed_at)}};
}
inline void from_json(const nlohmann::json& j, payment_completed& p) {
  p = {j.at("order_id").get<std::uint64_t>(), j.at("sku").get<int>(), time_at(j, "placed_at")};
}
inline void to_json(nlohmann::json& j, const payment_failed& p) {
  j = {{"order_id", p.order_id}, {"placed_at", ticks(p.placed_at)}};
}
inline void from_json(const nlohmann::json& j, payment_failed& p) {
  p = {j.at("order_id").get<std::uint64_t>(), time_at(j, "placed_at")};
}
inline void to_json(nlohmann::json& j, const refund_payment& r) { j = {{"order_id", r.order_id}}; }
inline void from_json(const nlohmann::json& j, refund_payment& r) { r = {j.at("order_id").get<std::uint64_t>()}; }
inline void to_json(nlohmann::json& j, const payment_refunded& r) { j = {{"order_id", r.order_id}}; }
inline void from_json(const nlohmann::json& j, payment_refunded& r) { r = {j.at("order_id").get<std::uint64_t>()}; }
inline void to_json(nlohmann::json& j, const payments_report_query&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, payments_report_query&) {}
inline void to_json(nlohmann::json& j, const payments_stop&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, payments_stop&) {}
inline void to_json(nlohmann::json& j, const payments_report& r) {
  j = {{"charged", r.charged}, {"refunded", r.refunded}, {"duplicates", r.duplicates}};
}
inline void from_json(const nlohmann::json& j, payments_report& r) {
  r = {j.at("charged").get<std::uint64_t>(), j.at("refunded").get<std::uint64_t>(),
       j.at("duplicates").get<std::uint64_t>()};
}

/// Registers every type that crosses, under a stable name at schema version 1.
inline void register_codecs(courier::bus& bus) {
  auto& c = bus.codecs();
  auto add = [&c](courier::errc e) {
    if (e != courier::errc::ok) throw std::runtime_error(std::string{"codec: "} + courier::to_string(e));
  };
  add(c.add<order_placed>("orders.placed", 1, courier::json_codec<order_placed>{}));
  add(c.add<payment_completed>("payments.completed", 1, courier::json_codec<payment_completed>{}));
  add(c.add<payment_failed>("payments.failed", 1, courier::json_codec<payment_failed>{}));
  add(c.add<refund_payment>("payments.refund", 1, courier::json_codec<refund_payment>{}));
  add(c.add<payment_refunded>("payments.refunded", 1, courier::json_codec<payment_refunded>{}));
  add(c.add<payments_report_query>("payments.report_query", 1, courier::json_codec<payments_report_query>{}));
  add(c.add<payments_report>("payments.report", 1, courier::json_codec<payments_report>{}));
  add(c.add<payments_stop>("payments.stop", 1, courier::json_codec<payments_stop>{}));
}

/// The subjects payments consumes: they leave the rest of the flow for NATS.
inline constexpr const char* to_payments[] = {"orders.*.placed", "payments.refund", "migration.payments.>"};
/// The subjects payments produces: they come back from NATS.
inline constexpr const char* from_payments[] = {"payments.completed", "payments.failed", "payments.refunded"};

/// Binds `patterns` in direction `dir`; throws if the bus refuses one.
inline void bind_all(courier::bus& bus, const std::shared_ptr<courier::bridge>& nats,
                 std::span<const char* const> patterns, courier::bridge_direction dir,
                 std::vector<courier::bridge_binding>& out) {
  for (const char* p : patterns) {
    auto b = bus.bridge(p, nats, dir);
    if (!b) throw std::runtime_error(std::string{"bridge "} + p + ": " + courier::to_string(b.error()));
    out.push_back(std::move(b.value()));
  }
}

}  // namespace orders
