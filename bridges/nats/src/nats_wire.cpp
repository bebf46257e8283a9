#include "nats_wire.hpp"

#include <cstdlib>
#include <string_view>

namespace courier::nats_detail {
namespace {

bool header_name_ok(std::string_view k) noexcept {
  if (k.empty()) return false;
  for (unsigned char c : k)
    if (c <= ' ' || c == ':' || c == 0x7f) return false;
  return true;
}

/// A plain loop: find_first_of with a set of three scans the set once per
/// character, a memchr call each, and this runs for every header of every publish.
bool header_value_ok(std::string_view v) noexcept {
  for (const char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
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

errc to_nats(const wire_message& w, msg_ptr& out) noexcept {
  for (const auto& [k, v] : w.headers)
    if (!header_name_ok(k) || !header_value_ok(v)) return errc::bad_message;
  natsMsg* raw = nullptr;
  const natsStatus s = natsMsg_Create(&raw, w.subject.c_str(), w.reply_to.empty() ? nullptr : w.reply_to.c_str(),
                                      w.payload.data(), static_cast<int>(w.payload.size()));
  if (s != NATS_OK) return s == NATS_INVALID_SUBJECT ? errc::invalid_subject : errc::bad_message;
  out.reset(raw);
  for (const auto& [k, v] : w.headers)
    if (natsMsgHeader_Add(raw, k.c_str(), v.c_str()) != NATS_OK) return errc::bad_message;
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
    return copy_headers(m, out);
  } catch (...) {
    return errc::bad_message;  // allocation failure on hostile sizes
  }
}

}  // namespace courier::nats_detail
