// Feeds random and mutated bytes to the inbound decoder: frame, headers, type, codec.

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <map>
#include <random>

#include "bridges/wire_support.hpp"
#include "runtime/test_support.hpp"

using namespace courier;

namespace {

/// Valid frames to mutate: a few shapes of real messages.
std::vector<std::string> seed_frames() {
  std::vector<wire_message> ms{
      {"orders.eu.placed", {}, {{"Courier-Type", "orders.placed/v1"}, {"Courier-Id", uuid::v7().to_string()}},
       R"({"id":1,"item":"widget"})"},
      {"orders.x", "_INBOX.7", {{"Courier-Type", "orders.placed/v1"}, {"Courier-Attempt", "3"}, {"k", "v"}},
       R"({"id":-5,"item":""})"},
      {"n", {}, {{"Courier-Type", "ints/v1"}, {"Courier-Deadline", "1700000000000000000"}}, "12345"},
  };
  std::vector<std::string> frames;
  for (const auto& m : ms) encode_frame(m, frames.emplace_back());
  return frames;
}

std::string mutate(std::string s, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1u << (rng() % 8)));
        break;
      case 1:
        if (!s.empty()) s[at] = static_cast<char>(rng());
        break;
      case 2:
        s.resize(at);
        break;
      case 3:
        s.insert(at, 1 + rng() % 3, static_cast<char>(rng()));
        break;
      default:
        if (!s.empty()) s[at] = static_cast<char>(0xff);  // the largest length byte
        break;
    }
  }
  return s;
}

std::string random_bytes(std::mt19937_64& rng) {
  std::string s(rng() % 48, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  if (rng() % 2 == 0) s.insert(0, "CW1");  // get past the magic half the time
  return s;
}

}  // namespace

TEST_CASE("the decoder takes 10^6 random and mutated inputs without crashing, and names every refusal",
          "[bridges][fuzz]") {
  const std::uint64_t seed = courier::test::seed_from_env();
  std::fprintf(stderr, "[seed] replay: COURIER_TEST_SEED=%llu ./courier-bridge-tests \"[fuzz]\"\n",
               static_cast<unsigned long long>(seed));
  INFO("seed " << seed);
  std::mt19937_64 rng{seed};
  codec_registry codecs;
  REQUIRE(codecs.add<courier::test::order_placed>("orders.placed", 1, json_codec<courier::test::order_placed>{}) ==
          errc::ok);
  REQUIRE(codecs.add<int>("ints", 1, courier::test::int_codec{}) == errc::ok);
  const auto frames = seed_frames();
  const wire_limits limits{.max_payload_bytes = 512, .max_headers = 8, .max_header_bytes = 256};
  const wire_time t{};
  std::map<errc, std::uint64_t> frame_outcomes, message_outcomes;
  const std::uint64_t inputs = 1'000'000;
  wire_message w;
  for (std::uint64_t i = 0; i < inputs; ++i) {
    std::string bytes = i % 4 == 0 ? random_bytes(rng) : mutate(frames[rng() % frames.size()], rng);
    errc fe = decode_frame(bytes, limits, w);
    ++frame_outcomes[fe];
    if (fe != errc::ok) continue;
    auto m = decode_wire(w, codecs, limits, t);
    ++message_outcomes[m ? errc::ok : m.error()];
  }
  std::uint64_t total = 0;
  for (auto [e, n] : frame_outcomes) {
    CAPTURE(to_string(e));
    CHECK((e == errc::ok || e == errc::bad_message || e == errc::too_large || e == errc::invalid_subject));
    total += n;
  }
  CHECK(total == inputs);
  for (auto [e, n] : message_outcomes) {
    CAPTURE(to_string(e));
    CHECK((e == errc::ok || e == errc::bad_message || e == errc::too_large || e == errc::invalid_subject ||
           e == errc::unknown_type || e == errc::unknown_version));
  }
  // The mutations reach every stage: some inputs decode, some fail in the frame, some in the codec.
  CHECK(frame_outcomes[errc::bad_message] > 0);
  CHECK(frame_outcomes[errc::too_large] > 0);
  CHECK(message_outcomes[errc::ok] > 0);
  CHECK(message_outcomes[errc::bad_message] > 0);
  CHECK(message_outcomes[errc::unknown_type] > 0);
}
