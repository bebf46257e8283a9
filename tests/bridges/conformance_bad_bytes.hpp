#pragma once

// Conformance: undecodable input from the broker becomes dead letters with a reason.

namespace courier::conformance {

/// A wire message as a foreign or broken publisher might send it.
inline wire_message raw(const std::string& subject, std::string type, std::string payload) {
  wire_message w{subject, {}, {}, std::move(payload)};
  if (!type.empty()) w.headers.emplace_back(wire_header::type, std::move(type));
  return w;
}

inline void bad_bytes_to_dead_letters(const target& t) {
  node a{t}, b{t};
  const std::string root = fresh_root(t, "badbytes");
  auto& bb = b.bind(root + ".>", dir::in,
                    {.limits = {.max_payload_bytes = 256, .max_headers = 16, .max_header_bytes = 512}});
  auto rec = b.record(root + ".>");
  auto letters = std::make_shared<std::vector<std::string>>();
  auto letters_mutex = std::make_shared<std::mutex>();
  b.keep(b.bus.subscribe<bus_dead_letter>("courier.dead_letter.>", [=](const bus_dead_letter& d) {
    std::lock_guard lock{*letters_mutex};
    letters->push_back(d.reason);
  }));
  const std::string s = root + ".x";
  std::vector<wire_message> bad{
      raw(s, "conformance.note/v1", "{not json"),
      raw(s, "conformance.note/v1", R"({"m":1})"),
      raw(s, "conformance.nope/v1", R"({"n":1,"text":""})"),
      raw(s, "", R"({"n":1,"text":""})"),
      raw(s, "conformance.note/v9", R"({"n":1,"text":""})"),
      raw(s, "conformance.note/v1", std::string(1000, 'x')),
  };
  bad.push_back(raw(s, "conformance.note/v1", R"({"n":1,"text":""})"));
  for (int i = 0; i < 20; ++i) bad.back().headers.emplace_back("h" + std::to_string(i), "v");
  bad.push_back(raw(s, "conformance.note/v1", R"({"n":1,"text":""})"));
  bad.back().headers.emplace_back(wire_header::id, "not-a-uuid");
  for (auto& w : bad) REQUIRE(a.br->publish(w) == errc::ok);
  REQUIRE(a.br->publish(raw(s, "conformance.note/v1", R"({"n":7,"text":"fine"})")) == errc::ok);
  auto count = [&] {
    std::lock_guard lock{*letters_mutex};
    return letters->size();
  };
  REQUIRE(eventually(t, [&] { return count() >= 8 && rec->size() >= 1; }));
  std::map<std::string, int> reasons;
  {
    std::lock_guard lock{*letters_mutex};
    for (const auto& r : *letters) ++reasons[r];
  }
  CHECK(reasons == std::map<std::string, int>{{"bad_message", 3}, {"unknown_type", 2}, {"unknown_version", 1},
                                              {"too_large", 2}});
  auto st = bb.stats();
  CHECK(st.bad_message == 3);
  CHECK(st.unknown_type == 2);
  CHECK(st.unknown_version == 1);
  CHECK(st.too_large == 2);
  CHECK(st.delivered == 1);
  CHECK(rec->items().front().value.text == "fine");
}

}  // namespace courier::conformance
