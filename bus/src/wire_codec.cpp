#include "courier/bus/wire_codec.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <tuple>
#include <utility>

#include "courier/bus/subject.hpp"

namespace courier {
namespace {

template <class Int>
bool parse_int(std::string_view s, Int& out) noexcept {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool reserved(std::string_view name) noexcept {
  return name.starts_with(wire_header::reserved_prefix) || name == wire_header::traceparent;
}

/// Copies `from` over `to`. In the steady state the length is the one `to`
/// had (the same header names, fixed-width values), and the copy is all
/// there is: no reallocation, no aliasing checks. @pre `from` is not in `to`
void overwrite(std::string& to, std::string_view from) {
  const std::size_t n = from.size();
  if (to.size() != n) to.resize(n);
  char* dst = to.data();
  const char* src = from.data();
  // Most names and values are 8 to 32 bytes: two or four overlapping word
  // moves, where a call to memcpy costs several times as much.
  const auto word = [&](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, src + at, sizeof w);
    std::memcpy(dst + at, &w, sizeof w);
  };
  if (n >= 8 && n <= 16) {
    word(0);
    word(n - 8);
  } else if (n > 16 && n <= 32) {
    word(0);
    word(8);
    word(n - 16);
    word(n - 8);
  } else if (n != 0) {
    std::memcpy(dst, src, n);
  }
}

/// Writes headers over the ones `out` already holds, reusing their strings: a
/// binding encodes every message of a thread into the same wire_message, so in
/// the steady state a header costs a copy into a buffer it had last time.
class header_writer {
 public:
  explicit header_writer(wire_message& out) noexcept : headers_{out.headers} {}

  void add(std::string_view name, std::string_view value) {
    if (used_ < headers_.size()) {
      overwrite(headers_[used_].first, name);
      overwrite(headers_[used_].second, value);
    } else {
      headers_.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple(value));
    }
    ++used_;
  }
  /// Drops the headers left over from the message encoded before.
  void finish() { headers_.erase(headers_.begin() + static_cast<std::ptrdiff_t>(used_), headers_.end()); }
  [[nodiscard]] std::size_t count() const noexcept { return used_; }

 private:
  std::vector<std::pair<std::string, std::string>>& headers_;
  std::size_t used_ = 0;
};

/// "00" to "99": decimal digits are written two at a time.
constexpr std::array<char, 200> digit_pairs = [] {
  std::array<char, 200> pairs{};
  for (std::size_t n = 0; n < 100; ++n) {
    pairs[2 * n] = static_cast<char>('0' + n / 10);
    pairs[2 * n + 1] = static_cast<char>('0' + n % 10);
  }
  return pairs;
}();

constexpr std::uint64_t ten_to_the_8 = 100'000'000;

void put_pair(char* at, std::uint32_t n) noexcept { std::memcpy(at, &digit_pairs[2 * n], 2); }

/// Writes `v` < 10^8 as exactly eight digits, leading zeros included.
void put_eight(char* at, std::uint32_t v) noexcept {
  const std::uint32_t high = v / 10'000;
  const std::uint32_t low = v % 10'000;
  put_pair(at, high / 100);
  put_pair(at + 2, high % 100);
  put_pair(at + 4, low / 100);
  put_pair(at + 6, low % 100);
}

/// The number of decimal digits of `v` < 10^8.
int digits_below_10_to_the_8(std::uint32_t v) noexcept {
  return 1 + int{v >= 10} + int{v >= 100} + int{v >= 1'000} + int{v >= 10'000} + int{v >= 100'000} +
         int{v >= 1'000'000} + int{v >= 10'000'000};
}

/// Writes `v` < 10^8 without leading zeros; returns one past the last digit.
char* put_leading(char* at, std::uint32_t v) noexcept {
  char* end = at + digits_below_10_to_the_8(v);
  char* p = end;
  for (; v >= 100; v /= 100) put_pair(p -= 2, v % 100);
  if (v >= 10) put_pair(p - 2, v);
  else p[-1] = static_cast<char>('0' + v);
  return end;
}

/// The two hex digits of every byte value, so a uuid is written a byte at a time.
constexpr std::array<char, 512> hex_pairs = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (std::size_t b = 0; b < 256; ++b) {
    pairs[2 * b] = digits[b >> 4];
    pairs[2 * b + 1] = digits[b & 0xf];
  }
  return pairs;
}();

/// The canonical 8-4-4-4-12 form, written directly: uuid::to_string goes through
/// fmt, which cost more than the rest of the encoding on every publish.
void add_uuid(header_writer& out, std::string_view name, const uuid& u) {
  std::array<char, 36> text;
  std::size_t at = 0;
  for (int byte = 0; byte < 16; ++byte) {
    if (byte == 4 || byte == 6 || byte == 8 || byte == 10) text[at++] = '-';
    const std::uint64_t word = byte < 8 ? u.hi : u.lo;
    const auto value = static_cast<std::size_t>((word >> (56 - 8 * (byte % 8))) & 0xff);
    text[at++] = hex_pairs[2 * value];
    text[at++] = hex_pairs[2 * value + 1];
  }
  out.add(name, {text.data(), text.size()});
}

void add_int(header_writer& out, std::string_view name, std::int64_t v) {
  std::array<char, max_decimal_chars> text;
  const char* end = write_decimal(v, text.data());
  out.add(name, {text.data(), static_cast<std::size_t>(end - text.data())});
}

void write_headers(const envelope& env, std::string_view tag, const wire_time& t, std::string_view origin,
                   wire_message& out) {
  // At most 9 headers of the envelope's fields, its own headers, and the
  // Courier-Origin a binding appends: the vector never grows after this.
  out.headers.reserve(10 + env.headers.size());
  header_writer w{out};
  add_uuid(w, wire_header::id, env.id);
  w.add(wire_header::type, tag);
  // Omitted when it is the id: the decoder defaults it to the id.
  if (!env.correlation_id.nil() && env.correlation_id != env.id)
    add_uuid(w, wire_header::correlation_id, env.correlation_id);
  if (!env.causation_id.nil()) add_uuid(w, wire_header::causation_id, env.causation_id);
  add_int(w, wire_header::timestamp, t.to_unix(env.timestamp));
  if (env.deadline) add_int(w, wire_header::deadline, t.to_unix(*env.deadline));
  add_int(w, wire_header::attempt, env.attempt);
  if (!origin.empty()) w.add(wire_header::origin, origin);
  // Everything above was formatted here from ids, numbers, the registered type
  // name and the binding's own id; everything below comes from the publisher and
  // is the bridge's to check.
  out.encoder_headers = w.count();
  if (!env.traceparent.empty()) w.add(wire_header::traceparent, env.traceparent);
  if (!env.key.empty()) w.add(wire_header::key, env.key);
  for (const auto& [k, v] : env.headers)
    if (!reserved(k)) w.add(k, v);
  w.finish();
}

/// Reads the Courier-* headers into `env`; false on a malformed value.
bool read_headers(const wire_message& in, const wire_time& t, envelope& env) {
  for (const auto& [k, v] : in.headers) {
    std::int64_t ns = 0;
    bool ok = true;
    if (k == wire_header::id) ok = parse_uuid(v, env.id);
    else if (k == wire_header::correlation_id) ok = parse_uuid(v, env.correlation_id);
    else if (k == wire_header::causation_id) ok = parse_uuid(v, env.causation_id);
    else if (k == wire_header::timestamp) ok = parse_int(v, ns) && (env.timestamp = t.from_unix(ns), true);
    else if (k == wire_header::deadline) ok = parse_int(v, ns) && (env.deadline = t.from_unix(ns), true);
    else if (k == wire_header::attempt) ok = parse_int(v, env.attempt) && env.attempt >= 1;
    else if (k == wire_header::key) env.key = v;
    else if (k == wire_header::traceparent) env.traceparent = v;
    else if (!reserved(k)) env.headers.emplace_back(k, v);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

char* write_decimal(std::int64_t v, char* out) noexcept {
  // The magnitude in unsigned arithmetic, where -INT64_MIN is defined.
  std::uint64_t u = static_cast<std::uint64_t>(v);
  if (v < 0) {
    *out++ = '-';
    u = 0 - u;
  }
  // Groups of eight digits: a Unix time in nanoseconds is a leading group of
  // two and two full groups, three divisions instead of to_chars's nine.
  if (u < ten_to_the_8) return put_leading(out, static_cast<std::uint32_t>(u));
  const auto low = static_cast<std::uint32_t>(u % ten_to_the_8);
  u /= ten_to_the_8;
  if (u < ten_to_the_8) {
    out = put_leading(out, static_cast<std::uint32_t>(u));
  } else {
    out = put_leading(out, static_cast<std::uint32_t>(u / ten_to_the_8));
    put_eight(out, static_cast<std::uint32_t>(u % ten_to_the_8));
    out += 8;
  }
  put_eight(out, low);
  return out + 8;
}

wire_time wire_time::now(const clock& c) noexcept {
  auto unix_now = std::chrono::system_clock::now().time_since_epoch();
  return {c.now(), std::chrono::duration_cast<duration>(unix_now).count()};
}

std::int64_t wire_time::to_unix(time_point t) const noexcept { return unix_ns_now + (t - bus_now).count(); }

time_point wire_time::from_unix(std::int64_t ns) const noexcept { return bus_now + duration{ns - unix_ns_now}; }

bool parse_uuid(std::string_view text, uuid& out) noexcept {
  if (text.size() != 36) return false;
  std::uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    int d = hex_digit(text[i]);
    if (d < 0) return false;
    words[nibble / 16] = (words[nibble / 16] << 4) | static_cast<std::uint64_t>(d);
    ++nibble;
  }
  out = uuid{words[0], words[1]};
  return true;
}

errc encode_wire(const message& m, const codec_registry& codecs, const wire_time& t, wire_message& out,
                 std::string_view origin) noexcept {
  const envelope* env = envelope_of(m);
  return env == nullptr ? errc::unknown_type : encode_wire(m, *env, codecs, t, out, origin);
}

errc encode_wire(const message& m, const envelope& env, const codec_registry& codecs, const wire_time& t,
                 wire_message& out, std::string_view origin) noexcept {
  const codec_entry* entry = codecs.find(m.type());
  if (entry == nullptr) return errc::unknown_type;
  try {
    overwrite(out.subject, env.subject);
    overwrite(out.reply_to, env.reply_to);
    out.encoder_headers = 0;
    write_headers(env, entry->tag, t, origin, out);
    out.payload.clear();
    return entry->impl->encode(m, out.payload);
  } catch (...) {
    return errc::bad_message;
  }
}

result<message_ptr> decode_wire(const wire_message& in, const codec_registry& codecs, const wire_limits& limits,
                                const wire_time& t) noexcept {
  if (errc e = check_limits(in, limits); e != errc::ok) return e;
  if (validate_subject(in.subject) != errc::ok) return errc::invalid_subject;
  if (!in.reply_to.empty() && validate_subject(in.reply_to) != errc::ok) return errc::invalid_subject;
  std::string_view name;
  std::uint32_t version = 0;
  if (!parse_type_tag(in.header(wire_header::type), name, version)) return errc::unknown_type;
  const codec_entry* entry = codecs.find(name, version);
  if (entry == nullptr) return codecs.knows(name) ? errc::unknown_version : errc::unknown_type;
  try {
    envelope env;
    env.timestamp = t.bus_now;
    if (!read_headers(in, t, env)) return errc::bad_message;
    if (env.id.nil()) env.id = uuid::v7();
    if (env.correlation_id.nil()) env.correlation_id = env.id;
    env.subject = in.subject;
    env.reply_to = in.reply_to;
    env.type_name = entry->name;
    env.schema_version = entry->version;
    return entry->impl->decode(in.payload, std::move(env));
  } catch (...) {
    return errc::bad_message;
  }
}

}  // namespace courier
