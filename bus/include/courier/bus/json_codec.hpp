#pragma once

// A value codec for types with nlohmann::json's to_json/from_json:
//
//     bus.codecs().add<order_placed>("orders.placed", 1, courier::json_codec<order_placed>{});
//
// The payload is the JSON text in UTF-8. Including this header needs
// nlohmann-json3-dev; courier::bus itself does not depend on it.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "courier/bus/errc.hpp"

namespace courier {

/// Encodes T as JSON text with nlohmann::json; decode() never throws.
template <class T>
struct json_codec {
  /// Appends the JSON text of `value` to `out`.
  errc encode(const T& value, std::string& out) const {
    out += nlohmann::json(value).dump();
    return errc::ok;
  }
  /// Parses `bytes` as JSON and converts it to T; errc::bad_message if either fails.
  result<T> decode(std::string_view bytes) const {
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
