#pragma once

// Codecs turn a message type into payload bytes and back. Every type that
// crosses a bridge is registered once, with a stable name and a major schema
// version that travel in the `Courier-Type` header (`orders.placed/v1`):
//
//     bus.codecs().add<order_placed>("orders.placed", 1, courier::json_codec<order_placed>{});
//
// A value codec for T is any object with
//
//     courier::errc encode(const T& value, std::string& out) const;   // append bytes
//     courier::result<T> decode(std::string_view bytes) const;        // never throws
//
// json_codec.hpp ships one for nlohmann::json; a protobuf codec would call
// SerializeToString / ParseFromArray in the same two functions.

#include <concepts>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "courier/bus/envelope.hpp"
#include "courier/bus/errc.hpp"

namespace courier {

/// Turns one registered type into bytes and back, type-erased.
class codec {
 public:
  virtual ~codec() = default;
  /// Appends the payload of `m` to `out`. @pre m.type() is the codec's type
  virtual errc encode(const message& m, std::string& out) const noexcept = 0;
  /// Builds a bus message from untrusted `bytes` and `env`; errc::bad_message if they do not parse.
  virtual result<message_ptr> decode(std::string_view bytes, envelope env) const noexcept = 0;
};

/// What a value codec for T provides (see the top of this file).
template <class C, class T>
concept value_codec_for = requires(const C& c, const T& v, std::string& out, std::string_view in) {
  { c.encode(v, out) } -> std::same_as<errc>;
  { c.decode(in) } -> std::same_as<result<T>>;
};

/// Adapts a value codec for T to the type-erased codec interface.
template <class T, value_codec_for<T> C>
class codec_of final : public codec {
 public:
  explicit codec_of(C c) : c_{std::move(c)} {}
  errc encode(const message& m, std::string& out) const noexcept override {
    try {
      return c_.encode(m.as<T>(), out);
    } catch (...) {
      return errc::bad_message;
    }
  }
  result<message_ptr> decode(std::string_view bytes, envelope env) const noexcept override {
    try {
      result<T> v = c_.decode(bytes);
      if (!v) return v.error();
      return message_ptr::adopt(new bus_message<T>(std::move(env), std::move(v).value()));
    } catch (...) {
      return errc::bad_message;
    }
  }

 private:
  C c_;
};

/// One registered type: its stable name, major schema version, local type and codec.
struct codec_entry {
  std::string_view name;  ///< Interned for the life of the process; envelopes point at it.
  std::uint32_t version = 1;
  type_id type = 0;
  std::unique_ptr<codec> impl;
  std::string tag;  ///< `name/v<version>`, built once: every outbound message carries it.
};

/// The types a bus can send over and receive from bridges.
/// Register before binding; lookups are @threadsafe.
class codec_registry {
 public:
  codec_registry();

  /// Registers T as `name` at major `version` with value codec `c`.
  /// errc::invalid_subject for a bad name (see docs/bridges.md), errc::already_exists
  /// if T or name/version is already registered.
  template <class T, value_codec_for<T> C>
  errc add(std::string_view name, std::uint32_t version, C c) {
    return add_erased(name, version, type_id_of<T>(), std::make_unique<codec_of<T, C>>(std::move(c)));
  }

  /// The entry for a local type, or nullptr. @threadsafe
  [[nodiscard]] const codec_entry* find(type_id type) const noexcept;
  /// The entry for name at major version, or nullptr. @threadsafe
  [[nodiscard]] const codec_entry* find(std::string_view name, std::uint32_t version) const noexcept;
  /// True when some version of `name` is registered. @threadsafe
  [[nodiscard]] bool knows(std::string_view name) const noexcept;

 private:
  errc add_erased(std::string_view name, std::uint32_t version, type_id type, std::unique_ptr<codec> impl);

  /// Tells registries apart for find()'s per-thread memo, even one built where another was freed.
  std::uint64_t serial_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<type_id, std::shared_ptr<codec_entry>> by_type_;
  std::unordered_map<std::string, std::shared_ptr<codec_entry>> by_name_;  // "name/vN"
};

/// True when `name` is a valid type name: 1..128 bytes of [a-z A-Z 0-9 . _ -]. @threadsafe
[[nodiscard]] bool valid_type_name(std::string_view name) noexcept;

/// `name/v<version>`, the value of the Courier-Type header.
[[nodiscard]] std::string type_tag(std::string_view name, std::uint32_t version);

/// Splits a Courier-Type value into name and major version; false if malformed. @threadsafe
[[nodiscard]] bool parse_type_tag(std::string_view tag, std::string_view& name, std::uint32_t& version) noexcept;

}  // namespace courier
