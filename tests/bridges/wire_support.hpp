#pragma once

// Types the wire, codec and binding tests share.

#include <charconv>
#include <string>

#include <courier/bus/json_codec.hpp>
#include <courier/courier.hpp>

namespace courier::test {

struct order_placed {
  int id = 0;
  std::string item;
};
inline void to_json(nlohmann::json& j, const order_placed& o) { j = {{"id", o.id}, {"item", o.item}}; }
inline void from_json(const nlohmann::json& j, order_placed& o) {
  j.at("id").get_to(o.id);
  j.at("item").get_to(o.item);
}

/// A value codec without JSON: an int as decimal text, the shape a protobuf codec would have.
struct int_codec {
  errc encode(const int& v, std::string& out) const {
    out += std::to_string(v);
    return errc::ok;
  }
  result<int> decode(std::string_view bytes) const {
    int v = 0;
    auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), v);
    if (ec != std::errc{} || end != bytes.data() + bytes.size()) return errc::bad_message;
    return v;
  }
};

}  // namespace courier::test
