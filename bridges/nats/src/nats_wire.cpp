#include "nats_wire.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace courier::nats_detail {
namespace {

// Every header of every publish is checked, so the checks read eight bytes at a
// time (the "haszero" family from Bit Twiddling Hacks) instead of one.
constexpr std::uint64_t ones = 0x0101010101010101;
constexpr std::uint64_t highs = 0x8080808080808080;

/// Nonzero when some byte of `w` is below `n`; exact for n <= 128.
constexpr std::uint64_t has_less(std::uint64_t w, std::uint8_t n) noexcept { return (w - ones * n) & ~w & highs; }
/// Nonzero when some byte of `w` is `b`.
constexpr std::uint64_t has_byte(std::uint64_t w, std::uint8_t b) noexcept { return has_less(w ^ (ones * b), 1); }

/// True when `bad` finds a word of `s` bad. A short `s` is padded with 'x', which
/// no check refuses; a long one ends with a word that overlaps the one before.
template <class Bad>
bool any_bad_word(std::string_view s, Bad bad) noexcept {
  std::uint64_t w = ones * 'x';
  if (s.size() < sizeof w) {
    for (const char c : s) w = (w << 8) | static_cast<unsigned char>(c);
    return bad(w) != 0;
  }
  for (std::size_t at = 0; at + sizeof w < s.size(); at += sizeof w) {
    std::memcpy(&w, s.data() + at, sizeof w);
    if (bad(w) != 0) return true;
  }
  std::memcpy(&w, s.data() + s.size() - sizeof w, sizeof w);
  return bad(w) != 0;
}

/// Not empty, and no control character, space, ':' or DEL.
bool header_name_ok(std::string_view k) noexcept {
  return !k.empty() && !any_bad_word(k, [](std::uint64_t w) {
    return has_less(w, '!') | has_byte(w, ':') | has_byte(w, 0x7f);
  });
}

/// No CR, LF or NUL.
bool header_value_ok(std::string_view v) noexcept {
  return !any_bad_word(v, [](std::uint64_t w) { return has_byte(w, '\r') | has_byte(w, '\n') | has_byte(w, 0); });
}

/// True when header `i` of `w` has the name of an earlier one.
bool repeats_earlier_name(const wire_message& w, std::size_t i) noexcept {
  for (std::size_t j = 0; j < i; ++j)
    if (w.headers[j].first == w.headers[i].first) return true;
  return false;
}

/// Frees the pointer arrays nats.c hands out for header keys and values.
struct array_free {
  void operator()(const char** p) const noexcept { std::free(static_cast<void*>(p)); }
};
using c_array = std::unique_ptr<const char*, array_free>;

errc copy_headers(natsMsg* m, wire_message& out) {
  const char** raw_keys = nullptr;
  int nkeys = 0;
  const natsStatus s = natsMsgHeader_Keys(m, &raw_keys, &nkeys);
  if (s == NATS_NOT_FOUND) return errc::ok;
  if (s != NATS_OK) return errc::bad_message;
  c_array keys{raw_keys};
  for (int i = 0; i < nkeys; ++i) {
    const char** raw_values = nullptr;
    int nvalues = 0;
    if (natsMsgHeader_Values(m, keys.get()[i], &raw_values, &nvalues) != NATS_OK) return errc::bad_message;
    c_array values{raw_values};
    for (int j = 0; j < nvalues; ++j) out.headers.emplace_back(keys.get()[i], values.get()[j]);
  }
  return errc::ok;
}

}  // namespace

errc to_nats(const wire_message& w, msg_ptr& out, bool drop_origin) noexcept {
  // The encoder's own headers are safe by construction (wire_message::encoder_headers);
  // every other one may carry a publisher's bytes.
  const std::size_t formatted = std::min(w.encoder_headers, w.headers.size());
  for (std::size_t i = formatted; i < w.headers.size(); ++i)
    if (!header_name_ok(w.headers[i].first) || !header_value_ok(w.headers[i].second)) return errc::bad_message;
  natsMsg* raw = nullptr;
  const natsStatus s = natsMsg_Create(&raw, w.subject.c_str(), w.reply_to.empty() ? nullptr : w.reply_to.c_str(),
                                      w.payload.data(), static_cast<int>(w.payload.size()));
  if (s != NATS_OK) return s == NATS_INVALID_SUBJECT ? errc::invalid_subject : errc::bad_message;
  out.reset(raw);
  for (std::size_t i = 0; i < w.headers.size(); ++i) {
    const auto& [k, v] = w.headers[i];
    if (drop_origin && k == wire_header::origin) continue;
    // Set skips the lookup Add makes to append to a name already there; same outcome for a
    // new name. The encoder's headers have distinct names, so only later ones may repeat.
    const auto put = i >= formatted && repeats_earlier_name(w, i) ? natsMsgHeader_Add : natsMsgHeader_Set;
    if (put(raw, k.c_str(), v.c_str()) != NATS_OK) return errc::bad_message;
  }
  return errc::ok;
}

errc from_nats(natsMsg* m, wire_message& out) noexcept {
  try {
    const int len = natsMsg_GetDataLength(m);
    if (len < 0) return errc::bad_message;
    const char* subject = natsMsg_GetSubject(m);
    const char* reply = natsMsg_GetReply(m);
    out.subject = subject != nullptr ? subject : "";
    out.reply_to = reply != nullptr ? reply : "";
    out.payload.assign(natsMsg_GetData(m), static_cast<std::size_t>(len));
    out.headers.clear();
    out.encoder_headers = 0;
    return copy_headers(m, out);
  } catch (...) {
    return errc::bad_message;  // allocation failure on hostile sizes
  }
}

}  // namespace courier::nats_detail
