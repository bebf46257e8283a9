#include "courier/bus/wire.hpp"

namespace courier {
namespace {

constexpr std::string_view frame_magic = "CW1";

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// Reads big-endian integers and length-prefixed strings from untrusted bytes.
/// Every read checks what is left first; a failed read poisons the reader.
struct frame_reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t number(std::size_t bytes) noexcept {
    if (!ok || in.size() < bytes) return ok = false, 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string_view take(std::uint64_t n) noexcept {
    if (!ok || in.size() < n) return ok = false, std::string_view{};
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

errc check_limits(const wire_message& m, const wire_limits& limits) noexcept {
  if (m.subject.size() > limits.max_subject_bytes || m.reply_to.size() > limits.max_subject_bytes)
    return errc::invalid_subject;
  if (m.payload.size() > limits.max_payload_bytes || m.headers.size() > limits.max_headers)
    return errc::too_large;
  for (const auto& [k, v] : m.headers)
    if (k.size() + v.size() > limits.max_header_bytes) return errc::too_large;
  return errc::ok;
}

void encode_frame(const wire_message& m, std::string& out) {
  out += frame_magic;
  put(out, m.subject.size(), 2);
  out += m.subject;
  put(out, m.reply_to.size(), 2);
  out += m.reply_to;
  put(out, m.headers.size(), 2);
  for (const auto& [k, v] : m.headers) {
    put(out, k.size(), 2);
    out += k;
    put(out, v.size(), 4);
    out += v;
  }
  put(out, m.payload.size(), 4);
  out += m.payload;
}

errc decode_frame(std::string_view bytes, const wire_limits& limits, wire_message& out) noexcept {
  frame_reader r{bytes};
  if (r.take(frame_magic.size()) != frame_magic) return errc::bad_message;
  auto subject_len = r.number(2);
  if (subject_len > limits.max_subject_bytes) return errc::invalid_subject;
  auto subject = r.take(subject_len);
  auto reply_len = r.number(2);
  if (reply_len > limits.max_subject_bytes) return errc::invalid_subject;
  auto reply_to = r.take(reply_len);
  auto count = r.number(2);
  if (!r.ok) return errc::bad_message;
  if (count > limits.max_headers) return errc::too_large;
  try {
    out.subject = subject;
    out.reply_to = reply_to;
    out.headers.clear();
    out.encoder_headers = 0;
    out.headers.reserve(count);  // bounded by max_headers, checked above
    for (std::uint64_t i = 0; i < count; ++i) {
      auto name = r.take(r.number(2));
      auto value_len = r.number(4);
      if (name.size() + value_len > limits.max_header_bytes) return errc::too_large;
      auto value = r.take(value_len);
      if (!r.ok) return errc::bad_message;
      out.headers.emplace_back(name, value);
    }
    auto payload_len = r.number(4);
    if (payload_len > limits.max_payload_bytes) return errc::too_large;
    out.payload = r.take(payload_len);
  } catch (...) {
    return errc::too_large;  // only allocation can throw, and every size was capped
  }
  return r.ok && r.in.empty() ? errc::ok : errc::bad_message;
}

}  // namespace courier
