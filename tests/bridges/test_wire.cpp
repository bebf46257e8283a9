#include <catch2/catch.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include <courier/courier.hpp>
#include <courier/bus/json_codec.hpp>

#include "bridges/wire_support.hpp"

using namespace courier;
using courier::test::order_placed;

TEST_CASE("a frame round-trips subject, reply subject, headers and payload bytes", "[bridges][wire]") {
  wire_message m{"orders.eu", "_INBOX.1", {{"a", "1"}, {"b", std::string("\0\xff", 2)}}, std::string("\0\x01\x02", 3)};
  std::string bytes;
  encode_frame(m, bytes);
  wire_message back;
  REQUIRE(decode_frame(bytes, {}, back) == errc::ok);
  CHECK(back.subject == m.subject);
  CHECK(back.reply_to == m.reply_to);
  CHECK(back.headers == m.headers);
  CHECK(back.payload == m.payload);
  // Decoded bytes are untrusted, whatever the message decoded into held before.
  back.encoder_headers = 1;
  REQUIRE(decode_frame(bytes, {}, back) == errc::ok);
  CHECK(back.encoder_headers == 0);
}

TEST_CASE("a frame is refused by length before anything is allocated for it", "[bridges][wire]") {
  wire_message m{"orders.eu", {}, {{"a", "1"}, {"b", "2"}}, std::string(100, 'x')};
  std::string bytes;
  encode_frame(m, bytes);
  wire_message out;
  CHECK(decode_frame(bytes, {.max_payload_bytes = 99}, out) == errc::too_large);
  CHECK(decode_frame(bytes, {.max_headers = 1}, out) == errc::too_large);
  CHECK(decode_frame(bytes, {.max_header_bytes = 1}, out) == errc::too_large);
  CHECK(decode_frame(bytes, {.max_subject_bytes = 3}, out) == errc::invalid_subject);
  CHECK(decode_frame(bytes.substr(0, bytes.size() - 1), {}, out) == errc::bad_message);
  CHECK(decode_frame(bytes + "x", {}, out) == errc::bad_message);
  CHECK(decode_frame("XW1", {}, out) == errc::bad_message);
  // A payload length of 4 GiB in a 20-byte input: refused by the limit, not allocated.
  std::string huge = std::string("CW1\0\x01" "a\0\0\0\0", 10) + std::string("\xff\xff\xff\xff", 4);
  CHECK(decode_frame(huge, {.max_payload_bytes = ~std::size_t{0}}, out) == errc::bad_message);
  CHECK(decode_frame(huge, {}, out) == errc::too_large);
}

TEST_CASE("type tags carry a name and a major version", "[bridges][codec]") {
  std::string_view name;
  std::uint32_t v = 0;
  REQUIRE(parse_type_tag("orders.placed/v12", name, v));
  CHECK(name == "orders.placed");
  CHECK(v == 12);
  CHECK(type_tag("orders.placed", 1) == "orders.placed/v1");
  for (std::string_view bad : {"orders.placed", "orders.placed/v", "orders.placed/v0", "orders.placed/v01",
                               "/v1", "a b/v1", "orders/v1x", "orders/v99999999999"})
    CHECK_FALSE(parse_type_tag(bad, name, v));
}

TEST_CASE("a registry refuses bad names and second registrations", "[bridges][codec]") {
  codec_registry r;
  CHECK(r.add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  CHECK(r.add<order_placed>("orders.other", 1, json_codec<order_placed>{}) == errc::already_exists);
  CHECK(r.add<int>("orders.placed", 1, courier::test::int_codec{}) == errc::already_exists);
  CHECK(r.add<int>("bad name", 1, courier::test::int_codec{}) == errc::invalid_subject);
  CHECK(r.add<int>("ints", 0, courier::test::int_codec{}) == errc::invalid_subject);
  CHECK(r.add<int>("ints", 2, courier::test::int_codec{}) == errc::ok);
  CHECK(r.find("ints", 2) != nullptr);
  CHECK(r.find("ints", 1) == nullptr);
  CHECK(r.knows("ints"));
  CHECK_FALSE(r.knows("nope"));
}

TEST_CASE("a type lookup answers for the registry asked, whatever the thread looked up before", "[bridges][codec]") {
  auto first = std::make_unique<codec_registry>();
  REQUIRE(first->add<int>("ints", 1, courier::test::int_codec{}) == errc::ok);
  const codec_entry* hit = first->find(type_id_of<int>());
  REQUIRE(hit != nullptr);
  CHECK(first->find(type_id_of<int>()) == hit);
  first.reset();
  // Possibly built where the first one was: it must not answer with its entry.
  auto second = std::make_unique<codec_registry>();
  CHECK(second->find(type_id_of<int>()) == nullptr);
  REQUIRE(second->add<int>("ints", 2, courier::test::int_codec{}) == errc::ok);
  const codec_entry* later = second->find(type_id_of<int>());
  REQUIRE(later != nullptr);
  CHECK(later->version == 2);
  CHECK(second->find(type_id_of<order_placed>()) == nullptr);
  CHECK(second->find(type_id_of<int>()) == later);
}

TEST_CASE("uuids parse from their canonical form and nothing else", "[bridges][wire]") {
  uuid id = uuid::v7();
  uuid back;
  REQUIRE(parse_uuid(id.to_string(), back));
  CHECK(back == id);
  for (std::string_view bad : {"", "0123", "0189a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5", "0189a2b3xc4d5-7e6f-8a9b-0c1d2e3f4a5b",
                               "0189a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5g"})
    CHECK_FALSE(parse_uuid(bad, back));
}

TEST_CASE("a correlation id equal to the message id is left off the wire and decodes back as the id",
          "[bridges][wire]") {
  codec_registry r;
  REQUIRE(r.add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  envelope env;
  env.id = uuid::v7();
  env.correlation_id = env.id;
  env.subject = "orders.eu.placed";
  const wire_time t{time_point{std::chrono::seconds{100}}, 1'700'000'000'000'000'000};
  auto msg = message_ptr::adopt(new bus_message<order_placed>(env, order_placed{1, "widget"}));
  wire_message w;
  REQUIRE(encode_wire(*msg, r, t, w) == errc::ok);
  CHECK_FALSE(w.has_header(wire_header::correlation_id));
  auto back = decode_wire(w, r, {}, t);
  REQUIRE(back);
  CHECK(envelope_of(*back.value())->correlation_id == env.id);
}

TEST_CASE("a bus message becomes headers and JSON bytes, and decodes back to the same envelope", "[bridges][wire]") {
  codec_registry r;
  REQUIRE(r.add<order_placed>("orders.placed", 3, json_codec<order_placed>{}) == errc::ok);
  envelope env;
  env.id = uuid::v7();
  env.correlation_id = uuid::v7();
  env.causation_id = uuid::v7();
  env.subject = "orders.eu.placed";
  env.timestamp = time_point{std::chrono::seconds{100}};
  env.deadline = env.timestamp + std::chrono::milliseconds{250};
  env.attempt = 2;
  env.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  env.key = "customer-7";
  env.headers = {{"tenant", "acme"}, {"Courier-Sneaky", "dropped"}};
  const wire_time t{time_point{std::chrono::seconds{100}}, 1'700'000'000'000'000'000};
  auto msg = message_ptr::adopt(new bus_message<order_placed>(env, order_placed{42, "widget"}));
  wire_message w;
  REQUIRE(encode_wire(*msg, r, t, w) == errc::ok);
  CHECK(w.header(wire_header::type) == "orders.placed/v3");
  CHECK(w.header(wire_header::timestamp) == "1700000000000000000");
  CHECK(w.header(wire_header::deadline) == "1700000000250000000");
  CHECK(w.header(wire_header::id) == env.id.to_string());
  CHECK(w.header(wire_header::correlation_id) == env.correlation_id.to_string());
  CHECK(w.header(wire_header::causation_id) == env.causation_id.to_string());
  CHECK(w.header(wire_header::attempt) == "2");
  CHECK(w.header("tenant") == "acme");
  CHECK_FALSE(w.has_header("Courier-Sneaky"));
  // Only what the encoder formatted counts as its own: key, traceparent and the
  // publisher's headers come after, for a bridge to check.
  std::vector<std::string_view> own;
  for (std::size_t i = 0; i < w.encoder_headers; ++i) own.push_back(w.headers[i].first);
  CHECK(own == std::vector<std::string_view>{wire_header::id, wire_header::type, wire_header::correlation_id,
                                             wire_header::causation_id, wire_header::timestamp,
                                             wire_header::deadline, wire_header::attempt});
  CHECK(w.headers.size() == w.encoder_headers + 3);
  CHECK(w.payload == R"({"id":42,"item":"widget"})");

  auto back = decode_wire(w, r, {}, t);
  REQUIRE(back);
  const envelope& e = *envelope_of(*back.value());
  CHECK(back.value()->as<order_placed>().item == "widget");
  CHECK(e.id == env.id);
  CHECK(e.correlation_id == env.correlation_id);
  CHECK(e.causation_id == env.causation_id);
  CHECK(e.subject == env.subject);
  CHECK(e.timestamp == env.timestamp);
  CHECK(e.deadline == env.deadline);
  CHECK(e.attempt == 2);
  CHECK(e.traceparent == env.traceparent);
  CHECK(e.key == env.key);
  CHECK(e.type_name == "orders.placed");
  CHECK(e.schema_version == 3);
  CHECK(e.headers == std::vector<std::pair<std::string, std::string>>{{"tenant", "acme"}});
}

TEST_CASE("integer headers are written with the bytes std::to_chars writes", "[bridges][wire]") {
  auto same_as_to_chars = [](std::int64_t v) {
    std::array<char, max_decimal_chars> expected{};
    std::array<char, max_decimal_chars> got{};
    const char* expected_end = std::to_chars(expected.data(), expected.data() + expected.size(), v).ptr;
    const char* got_end = write_decimal(v, got.data());
    return std::string_view(expected.data(), static_cast<std::size_t>(expected_end - expected.data())) ==
           std::string_view(got.data(), static_cast<std::size_t>(got_end - got.data()));
  };
  std::vector<std::int64_t> edges{0, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::int64_t>::min() + 1, 1'700'000'000'000'000'000};
  // Every power of ten and its neighbours, both signs: where the digit count and the groups change.
  for (std::int64_t p = 1; p <= std::numeric_limits<std::int64_t>::max() / 10; p *= 10)
    for (std::int64_t near : {p - 1, p, p + 1, 10 * p - 1, 10 * p, 10 * p + 1})
      for (std::int64_t v : {near, -near}) edges.push_back(v);
  for (std::int64_t v : edges) {
    INFO(v);
    CHECK(same_as_to_chars(v));
  }
  std::size_t mismatches = 0;
  for (std::int64_t v = -200'000; v <= 200'000; ++v) mismatches += same_as_to_chars(v) ? 0 : 1;
  // Every magnitude: a random value of each bit length, many times.
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 random{seed};
  for (int round = 0; round < 20'000; ++round)
    for (int bits = 1; bits <= 64; ++bits) {
      const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
      mismatches += same_as_to_chars(static_cast<std::int64_t>(random() & mask)) ? 0 : 1;
    }
  CHECK(mismatches == 0);
}

TEST_CASE("uuid headers are written as uuid::to_string writes them", "[bridges][wire]") {
  codec_registry r;
  REQUIRE(r.add<int>("ints", 1, courier::test::int_codec{}) == errc::ok);
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 random{seed};
  std::vector<uuid> ids{uuid{0, 1}, uuid{~std::uint64_t{0}, ~std::uint64_t{0}},
                        uuid{0x0123456789abcdef, 0xfedcba9876543210}, uuid{0xa0a0a0a0a0a0a0a0, 0x0909090909090909}};
  for (int i = 0; i < 10'000; ++i) ids.push_back(uuid{random(), random()});
  ids.push_back(uuid::v7());
  wire_message w;
  std::size_t mismatches = 0;
  for (const uuid& id : ids) {
    envelope env;
    env.id = id;
    env.causation_id = id;
    env.subject = "ints.x";
    REQUIRE(encode_wire(*message_ptr::adopt(new bus_message<int>(env, 1)), r, wire_time{}, w) == errc::ok);
    mismatches += w.header(wire_header::id) == id.to_string() ? 0 : 1;
    mismatches += w.header(wire_header::causation_id) == id.to_string() ? 0 : 1;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("encoding into a wire message used before leaves nothing of the earlier message", "[bridges][wire]") {
  codec_registry r;
  REQUIRE(r.add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  const wire_time t{time_point{std::chrono::seconds{100}}, 1'700'000'000'000'000'000};
  envelope big;
  big.id = uuid::v7();
  big.correlation_id = uuid::v7();
  big.causation_id = uuid::v7();
  big.subject = "orders.eu.placed.with.a.long.subject";
  big.reply_to = "_INBOX.reply.subject";
  big.timestamp = time_point{std::chrono::seconds{100}};
  big.deadline = big.timestamp + std::chrono::seconds{1};
  big.key = "customer-7";
  big.headers = {{"tenant", "acme"}, {"region", "eu-west-and-a-long-value"}};
  envelope small;
  small.id = uuid::v7();
  small.subject = "orders.x";
  small.timestamp = time_point{std::chrono::seconds{101}};
  auto big_msg = message_ptr::adopt(new bus_message<order_placed>(big, order_placed{1, std::string(300, 'w')}));
  auto small_msg = message_ptr::adopt(new bus_message<order_placed>(small, order_placed{2, "x"}));

  wire_message fresh;
  REQUIRE(encode_wire(*small_msg, r, t, fresh, "bridge-7") == errc::ok);
  wire_message reused;
  REQUIRE(encode_wire(*big_msg, r, t, reused, "bridge-7") == errc::ok);
  REQUIRE(encode_wire(*small_msg, r, t, reused, "bridge-7") == errc::ok);
  CHECK(reused.subject == fresh.subject);
  CHECK(reused.reply_to.empty());
  CHECK(reused.headers == fresh.headers);
  CHECK(reused.encoder_headers == fresh.encoder_headers);
  CHECK(reused.payload == fresh.payload);
  // The origin is the encoder's: its last own header, written once.
  CHECK(reused.headers[reused.encoder_headers - 1] ==
        std::pair<std::string, std::string>{std::string{wire_header::origin}, "bridge-7"});
  CHECK(reused.headers.size() == reused.encoder_headers);
  wire_message bare;
  REQUIRE(encode_wire(*small_msg, r, t, bare) == errc::ok);
  CHECK_FALSE(bare.has_header(wire_header::origin));
}

TEST_CASE("decoding names why it refused a wire message", "[bridges][wire]") {
  codec_registry r;
  REQUIRE(r.add<order_placed>("orders.placed", 1, json_codec<order_placed>{}) == errc::ok);
  const wire_time t{};
  auto with = [](std::string subject, std::string type, std::string payload) {
    wire_message w{std::move(subject), {}, {}, std::move(payload)};
    w.headers.emplace_back(wire_header::type, std::move(type));
    return w;
  };
  const std::string ok = R"({"id":1,"item":"x"})";
  CHECK(decode_wire(with("orders.x", "orders.placed/v1", ok), r, {}, t));
  CHECK(decode_wire(with("orders..x", "orders.placed/v1", ok), r, {}, t).error() == errc::invalid_subject);
  CHECK(decode_wire(with("orders.*", "orders.placed/v1", ok), r, {}, t).error() == errc::invalid_subject);
  CHECK(decode_wire(with("orders.x", "orders.placed/v2", ok), r, {}, t).error() == errc::unknown_version);
  CHECK(decode_wire(with("orders.x", "orders.other/v1", ok), r, {}, t).error() == errc::unknown_type);
  CHECK(decode_wire(with("orders.x", "orders.placed/v1", "{"), r, {}, t).error() == errc::bad_message);
  CHECK(decode_wire(with("orders.x", "orders.placed/v1", ok), r, {.max_payload_bytes = 5}, t).error() ==
        errc::too_large);
  auto bad_attempt = with("orders.x", "orders.placed/v1", ok);
  bad_attempt.headers.emplace_back(wire_header::attempt, "0");
  CHECK(decode_wire(bad_attempt, r, {}, t).error() == errc::bad_message);
  auto bad_time = with("orders.x", "orders.placed/v1", ok);
  bad_time.headers.emplace_back(wire_header::deadline, "12x");
  CHECK(decode_wire(bad_time, r, {}, t).error() == errc::bad_message);
}

TEST_CASE("the JSON codec refuses text nested deeper than its limit before parsing it", "[bridges][codec]") {
  const json_codec<std::vector<int>> codec{.max_depth = 4};
  CHECK(codec.decode("[1,2,3]"));
  CHECK(codec.decode(std::string(5, '[') + std::string(5, ']')).error() == errc::bad_message);
  CHECK(json_depth(R"({"a":"[[[[[[[[","b":[{"c":"\"[["}]})", 100) == 3);
  CHECK(json_depth(std::string(1 << 20, '['), 64) == 65);  // stops counting past the limit
  const json_codec<courier::test::order_placed> orders{};
  CHECK(orders.decode(R"({"id":1,"item":"x"})"));
  CHECK(orders.decode(R"({"id":"one","item":"x"})").error() == errc::bad_message);
  CHECK(orders.decode("\xff\xfe").error() == errc::bad_message);
}
