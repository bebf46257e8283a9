#pragma once

// Subjects and patterns, with NATS semantics
// (https://docs.nats.io/nats-concepts/subjects):
//
// - A subject is one or more tokens separated by `.`: `orders.eu.placed`.
//   Tokens are non-empty, so there is no leading, trailing or doubled dot.
// - Every byte is printable: bytes below 0x21 (space, tab, CR, LF, NUL, other
//   controls) and 0x7f are rejected. Bytes >= 0x80 are allowed, so UTF-8 works.
// - In a pattern, a token that is exactly `*` matches exactly one token, and a
//   last token that is exactly `>` matches one or more trailing tokens.
//   `foo.*` and `foo.>` both match `foo.bar` and neither matches `foo`.
// - `*` and `>` are wildcards only as whole tokens. A token that mixes them
//   with other bytes (`a*`, `>b`, `**`) is rejected in patterns and subjects
//   alike. The NATS server would treat such a token as a literal; we reject it
//   because it is almost always a mistaken wildcard.
// - A subject to publish to contains no wildcard token.
// - At most max_subject_length bytes and max_subject_tokens tokens.
//
// Every failure is reported as errc::invalid_subject.

#include <cstddef>
#include <iterator>
#include <string_view>

#include "courier/bus/errc.hpp"

namespace courier {

/// Longest subject or pattern accepted, in bytes.
inline constexpr std::size_t max_subject_length = 256;
/// Most tokens a subject or pattern may have.
inline constexpr std::size_t max_subject_tokens = 32;

/// Checks a subject to publish to; returns errc::ok or errc::invalid_subject.
/// @threadsafe
[[nodiscard]] errc validate_subject(std::string_view subject) noexcept;

/// Checks a subscription pattern; returns errc::ok or errc::invalid_subject.
/// @threadsafe
[[nodiscard]] errc validate_pattern(std::string_view pattern) noexcept;

/// True when `pattern` matches `subject`; a reference matcher, linear in their tokens.
/// @pre validate_pattern(pattern) and validate_subject(subject) are errc::ok
/// @threadsafe
[[nodiscard]] bool matches(std::string_view pattern, std::string_view subject) noexcept;

/// The `.`-separated tokens of a string, as a forward range of string_views.
/// An empty string has no tokens; `a..b` yields `a`, ``, `b`.
class token_view {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    constexpr iterator() noexcept = default;

    constexpr std::string_view operator*() const noexcept {
      return s_.substr(begin_, end_ - begin_);
    }
    constexpr iterator& operator++() noexcept {
      if (end_ == s_.size()) {
        begin_ = end_ = std::string_view::npos;
      } else {
        begin_ = end_ + 1;
        end_ = find_dot(begin_);
      }
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    constexpr bool operator==(const iterator& o) const noexcept { return begin_ == o.begin_; }

   private:
    friend class token_view;
    constexpr explicit iterator(std::string_view s) noexcept
        : s_(s),
          begin_(s.empty() ? std::string_view::npos : 0),
          end_(s.empty() ? begin_ : find_dot(0)) {}
    constexpr std::size_t find_dot(std::size_t from) const noexcept {
      std::size_t dot = s_.find('.', from);
      return dot == std::string_view::npos ? s_.size() : dot;
    }

    std::string_view s_;
    std::size_t begin_ = std::string_view::npos;
    std::size_t end_ = std::string_view::npos;
  };

  /// Views the tokens of `s`, which must outlive the view.
  constexpr explicit token_view(std::string_view s) noexcept : s_(s) {}
  /// The first token.
  constexpr iterator begin() const noexcept { return iterator{s_}; }
  /// Past the last token.
  constexpr iterator end() const noexcept { return iterator{}; }

 private:
  std::string_view s_;
};

}  // namespace courier
