#include "courier/bus/subject.hpp"

namespace courier {
namespace {

enum class wildcards { forbidden, allowed };

constexpr bool is_printable(char c) noexcept {
  auto b = static_cast<unsigned char>(c);
  return b > 0x20 && b != 0x7f;
}

bool is_wildcard(std::string_view token) noexcept { return token == "*" || token == ">"; }

bool valid_literal(std::string_view token) noexcept {
  if (token.empty()) return false;
  for (char c : token) {
    if (!is_printable(c) || c == '*' || c == '>') return false;
  }
  return true;
}

errc validate(std::string_view s, wildcards w) noexcept {
  if (s.empty() || s.size() > max_subject_length) return errc::invalid_subject;
  std::size_t count = 0;
  bool after_tail = false;
  for (std::string_view token : token_view{s}) {
    if (after_tail || ++count > max_subject_tokens) return errc::invalid_subject;
    if (w == wildcards::allowed && is_wildcard(token)) {
      after_tail = token == ">";
    } else if (!valid_literal(token)) {
      return errc::invalid_subject;
    }
  }
  return errc::ok;
}

}  // namespace

errc validate_subject(std::string_view subject) noexcept {
  return validate(subject, wildcards::forbidden);
}

errc validate_pattern(std::string_view pattern) noexcept {
  return validate(pattern, wildcards::allowed);
}

bool matches(std::string_view pattern, std::string_view subject) noexcept {
  token_view subject_tokens{subject};
  auto s = subject_tokens.begin();
  for (std::string_view p : token_view{pattern}) {
    if (s == subject_tokens.end()) return false;
    if (p == ">") return true;
    if (p != "*" && p != *s) return false;
    ++s;
  }
  return s == subject_tokens.end();
}

}  // namespace courier
