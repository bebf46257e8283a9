#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "courier/bus/errc.hpp"
#include "courier/bus/subject.hpp"

using namespace courier;

namespace {

struct match_case {
  std::string_view pattern;
  std::string_view subject;
  bool expected;
};

void check_matches(const std::vector<match_case>& cases) {
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.subject);
    REQUIRE(validate_pattern(c.pattern) == errc::ok);
    REQUIRE(validate_subject(c.subject) == errc::ok);
    CHECK(matches(c.pattern, c.subject) == c.expected);
  }
}

std::string repeat_tokens(std::size_t n) {
  std::string s = "t";
  for (std::size_t i = 1; i < n; ++i) s += ".t";
  return s;
}

}  // namespace

TEST_CASE("a literal pattern matches only the identical subject") {
  check_matches({
      {"foo", "foo", true},
      {"foo.bar", "foo.bar", true},
      {"foo.bar", "foo", false},
      {"foo", "foo.bar", false},
      {"foo.bar", "foo.baz", false},
      {"foo.bar", "bar.foo", false},
      {"foo.bar", "foo.bar.baz", false},
      {"Foo", "foo", false},
      {"fo", "foo", false},
      {"foo", "fo", false},
      {"caf\xc3\xa9", "caf\xc3\xa9", true},
      {"a-b_c$", "a-b_c$", true},
  });
}

TEST_CASE("`*` matches exactly one token") {
  check_matches({
      {"*", "foo", true},
      {"*", "foo.bar", false},
      {"foo.*", "foo.bar", true},
      {"foo.*", "foo", false},
      {"foo.*", "foo.bar.baz", false},
      {"*.bar", "foo.bar", true},
      {"*.bar", "foo.baz", false},
      {"*.bar", "bar", false},
      {"foo.*.baz", "foo.bar.baz", true},
      {"foo.*.baz", "foo.baz", false},
      {"foo.*.baz", "foo.bar.qux.baz", false},
      {"*.*", "a.b", true},
      {"*.*", "a", false},
      {"*.*", "a.b.c", false},
      {"orders.*.placed", "orders.eu.placed", true},
      {"orders.*.placed", "orders.eu.shipped", false},
  });
}

TEST_CASE("`>` matches one or more trailing tokens but not zero") {
  check_matches({
      {">", "foo", true},
      {">", "foo.bar.baz", true},
      {"foo.>", "foo.bar", true},
      {"foo.>", "foo.bar.baz", true},
      {"foo.>", "foo", false},
      {"foo.>", "bar.foo", false},
      {"foo.bar.>", "foo.bar", false},
      {"foo.bar.>", "foo.bar.baz.qux", true},
      {"foo.bar.>", "foo.baz.qux", false},
  });
}

TEST_CASE("`*` and `>` combine in one pattern") {
  check_matches({
      {"*.>", "a", false},
      {"*.>", "a.b", true},
      {"*.>", "a.b.c", true},
      {"foo.*.>", "foo.bar", false},
      {"foo.*.>", "foo.bar.baz", true},
      {"*.bar.>", "foo.bar.baz", true},
      {"*.bar.>", "foo.baz.baz", false},
      {"*.*.*", "a.b.c", true},
      {"*.*.*", "a.b", false},
  });
}

TEST_CASE("validate_subject accepts dot-separated tokens of printable bytes") {
  for (std::string_view s : {"foo", "foo.bar", "a.b.c.d", "$SYS.req", "_INBOX.abc123",
                             "caf\xc3\xa9.x", "a-b.c_d", "~!@#%^&()"}) {
    CAPTURE(s);
    CHECK(validate_subject(s) == errc::ok);
    CHECK(validate_pattern(s) == errc::ok);
  }
}

TEST_CASE("empty subjects and empty tokens are rejected") {
  for (std::string_view s :
       {"", ".", "..", ".foo", "foo.", "foo..bar", "foo.bar.", ".foo.bar", "*.", ".>", "foo..>"}) {
    CAPTURE(s);
    CHECK(validate_subject(s) == errc::invalid_subject);
    CHECK(validate_pattern(s) == errc::invalid_subject);
  }
}

TEST_CASE("whitespace, control bytes and DEL are rejected anywhere") {
  std::vector<char> bad;
  for (int b = 0; b <= 0x20; ++b) bad.push_back(static_cast<char>(b));
  bad.push_back('\x7f');
  for (char c : bad) {
    for (const std::string& s :
         {std::string{c}, "foo" + std::string{c}, std::string{c} + "foo", "foo." + std::string{c},
          "fo" + std::string{c} + "o.bar", "foo.b" + std::string{c} + "ar"}) {
      CAPTURE(static_cast<int>(c), s);
      CHECK(validate_subject(s) == errc::invalid_subject);
      CHECK(validate_pattern(s) == errc::invalid_subject);
    }
  }
}

TEST_CASE("publish subjects may not contain wildcards") {
  for (std::string_view s : {"*", ">", "foo.*", "foo.>", "*.bar", "foo.*.bar", "*.>"}) {
    CAPTURE(s);
    CHECK(validate_subject(s) == errc::invalid_subject);
    CHECK(validate_pattern(s) == errc::ok);
  }
}

TEST_CASE("`>` is valid only as the last token of a pattern") {
  for (std::string_view s : {">.foo", "foo.>.bar", ">.>", ">.*", "a.>.>"}) {
    CAPTURE(s);
    CHECK(validate_pattern(s) == errc::invalid_subject);
  }
}

TEST_CASE("a token mixing a wildcard with other bytes is rejected") {
  for (std::string_view s :
       {"a*", "*a", "foo.b*r", "**", "foo.**", ">>", "foo.>>", "a>", ">a", "foo.*>", "foo.>*"}) {
    CAPTURE(s);
    CHECK(validate_subject(s) == errc::invalid_subject);
    CHECK(validate_pattern(s) == errc::invalid_subject);
  }
}

TEST_CASE("subjects may be max_subject_length bytes long but no longer") {
  std::string longest(max_subject_length, 'x');
  CHECK(validate_subject(longest) == errc::ok);
  CHECK(validate_pattern(longest) == errc::ok);
  std::string too_long(max_subject_length + 1, 'x');
  CHECK(validate_subject(too_long) == errc::invalid_subject);
  CHECK(validate_pattern(too_long) == errc::invalid_subject);
  std::string pattern(max_subject_length - 2, 'x');
  pattern += ".>";
  CHECK(validate_pattern(pattern) == errc::ok);
  CHECK(validate_pattern("x" + pattern) == errc::invalid_subject);
}

TEST_CASE("subjects may have max_subject_tokens tokens but no more") {
  CHECK(validate_subject(repeat_tokens(max_subject_tokens)) == errc::ok);
  CHECK(validate_pattern(repeat_tokens(max_subject_tokens - 1) + ".>") == errc::ok);
  CHECK(validate_subject(repeat_tokens(max_subject_tokens + 1)) == errc::invalid_subject);
  CHECK(validate_pattern(repeat_tokens(max_subject_tokens + 1)) == errc::invalid_subject);
  CHECK(validate_pattern(repeat_tokens(max_subject_tokens) + ".>") == errc::invalid_subject);
  CHECK(validate_pattern(repeat_tokens(max_subject_tokens) + ".*") == errc::invalid_subject);
}

TEST_CASE("token_view yields every dot-separated token, empty ones included") {
  auto split = [](std::string_view s) {
    std::vector<std::string_view> out;
    for (auto t : token_view{s}) out.push_back(t);
    return out;
  };
  using v = std::vector<std::string_view>;
  CHECK(split("") == v{});
  CHECK(split("foo") == v{"foo"});
  CHECK(split("a.bb.ccc") == v{"a", "bb", "ccc"});
  CHECK(split("a..b") == v{"a", "", "b"});
  CHECK(split(".") == v{"", ""});
  CHECK(split("a.") == v{"a", ""});
  CHECK(split(".a") == v{"", "a"});
}

TEST_CASE("to_string names every errc") {
  CHECK(std::string_view{to_string(errc::ok)} == "ok");
  CHECK(std::string_view{to_string(errc::invalid_subject)} == "invalid_subject");
  CHECK(std::string_view{to_string(errc::mailbox_full)} == "mailbox_full");
  CHECK(std::string_view{to_string(errc::timeout)} == "timeout");
  CHECK(std::string_view{to_string(errc::no_responders)} == "no_responders");
  CHECK(std::string_view{to_string(errc::handler_failed)} == "handler_failed");
  CHECK(std::string_view{to_string(errc::cancelled)} == "cancelled");
  CHECK(std::string_view{to_string(errc::shutdown)} == "shutdown");
  CHECK(std::string_view{to_string(errc::too_large)} == "too_large");
  CHECK(std::string_view{to_string(static_cast<errc>(200))} == "unknown");
}

TEST_CASE("result holds either a value or an error") {
  result<std::string> good{std::string{"x"}};
  REQUIRE(good);
  CHECK(good.has_value());
  CHECK(good.value() == "x");
  CHECK(good.error() == errc::ok);
  const std::string moved = std::move(good).value();
  CHECK(moved == "x");

  result<std::string> bad{errc::timeout};
  CHECK_FALSE(bad);
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error() == errc::timeout);

  result<void> done;
  CHECK(done);
  CHECK(done.error() == errc::ok);
  result<void> from_ok{errc::ok};
  CHECK(from_ok.has_value());
  result<void> failed{errc::shutdown};
  CHECK_FALSE(failed);
  CHECK(failed.error() == errc::shutdown);
}
