#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace courier {

/// Error codes of the bus. `ok` is zero; new codes are only ever appended.
enum class errc : std::uint8_t {
  ok = 0,           ///< No error.
  invalid_subject,  ///< A subject or pattern failed validation (see subject.hpp).
  mailbox_full,     ///< A subscriber was at capacity under the `reject` policy.
  timeout,          ///< A deadline passed before the operation completed.
  no_responders,    ///< A request found no subscriber for its subject.
  handler_failed,   ///< The handler threw or returned an error.
  cancelled,        ///< The caller cancelled the operation.
  shutdown,         ///< The bus is shutting down and takes no new work.
  too_large,        ///< A message or header exceeded a configured size cap.
  bad_message,      ///< Bytes from outside could not be decoded.
  unknown_type,     ///< No codec is registered for a message's type.
  unknown_version,  ///< The type is known, but not at this major schema version.
  already_exists,   ///< A name or type was registered twice.
  disconnected,     ///< A bridge is closed or not connected to its broker.
};

/// Returns the enumerator's name, or "unknown" for a value outside the enum.
/// @threadsafe
constexpr const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::invalid_subject:
      return "invalid_subject";
    case errc::mailbox_full:
      return "mailbox_full";
    case errc::timeout:
      return "timeout";
    case errc::no_responders:
      return "no_responders";
    case errc::handler_failed:
      return "handler_failed";
    case errc::cancelled:
      return "cancelled";
    case errc::shutdown:
      return "shutdown";
    case errc::too_large:
      return "too_large";
    case errc::bad_message:
      return "bad_message";
    case errc::unknown_type:
      return "unknown_type";
    case errc::unknown_version:
      return "unknown_version";
    case errc::already_exists:
      return "already_exists";
    case errc::disconnected:
      return "disconnected";
  }
  return "unknown";
}

/// A value of type T, or the errc saying why there is none.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, errc>, "result<errc> would be ambiguous");

 public:
  /// Holds a value.
  result(T val) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(std::move(val)) {}
  /// Holds an error. @pre e != errc::ok
  result(errc e) noexcept : error_(e) { assert(e != errc::ok); }

  /// True when a value is held.
  bool has_value() const noexcept { return value_.has_value(); }
  /// True when a value is held.
  explicit operator bool() const noexcept { return has_value(); }

  /// The held value. @pre has_value()
  T& value() & noexcept {
    assert(has_value());
    return *value_;
  }
  /// The held value. @pre has_value()
  const T& value() const& noexcept {
    assert(has_value());
    return *value_;
  }
  /// The held value, moved out. @pre has_value()
  T&& value() && noexcept {
    assert(has_value());
    return std::move(*value_);
  }

  /// The error, or errc::ok when a value is held.
  errc error() const noexcept { return error_; }

 private:
  std::optional<T> value_;
  errc error_ = errc::ok;
};

/// Success, or the errc saying why the operation failed.
template <>
class [[nodiscard]] result<void> {
 public:
  /// Success.
  result() noexcept = default;
  /// Holds `e`; errc::ok means success.
  result(errc e) noexcept : error_(e) {}

  /// True on success.
  bool has_value() const noexcept { return error_ == errc::ok; }
  /// True on success.
  explicit operator bool() const noexcept { return has_value(); }
  /// Does nothing; present so generic code can call value(). @pre has_value()
  void value() const noexcept { assert(has_value()); }
  /// The error, or errc::ok on success.
  errc error() const noexcept { return error_; }

 private:
  errc error_ = errc::ok;
};

}  // namespace courier
