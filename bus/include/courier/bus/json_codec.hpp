#pragma once

// A value codec for types with nlohmann::json's to_json/from_json:
//
//     bus.codecs().add<order_placed>("orders.placed", 1, courier::json_codec<order_placed>{});
//
// The payload is the JSON text in UTF-8. Including this header needs
// nlohmann-json3-dev; courier::bus itself does not depend on it.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "courier/bus/errc.hpp"

namespace courier {

/// The deepest nesting of arrays and objects in JSON text, counting none
/// inside strings; it stops counting past `limit`. A linear scan, no allocation.
inline std::size_t json_depth(std::string_view text, std::size_t limit) noexcept {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

/// Encodes T as JSON text with nlohmann::json; decode() never throws.
/// Text nested deeper than `max_depth` is refused before it is parsed, since
/// each level costs an allocation: 1 MiB of `[` would otherwise build a million arrays.
template <class T>
struct json_codec {
  std::size_t max_depth = 64;

  /// Appends the JSON text of `value` to `out`.
  errc encode(const T& value, std::string& out) const {
    out += nlohmann::json(value).dump();
    return errc::ok;
  }
  /// Parses `bytes` as JSON and converts it to T; errc::bad_message if either fails.
  result<T> decode(std::string_view bytes) const {
    if (json_depth(bytes, max_depth) > max_depth) return errc::bad_message;
    auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return errc::bad_message;
    try {
      return j.template get<T>();
    } catch (const nlohmann::json::exception&) {
      return errc::bad_message;
    }
  }
};

}  // namespace courier
