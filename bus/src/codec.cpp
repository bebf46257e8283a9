#include "courier/bus/codec.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <set>

namespace courier {
namespace {

/// Registered names live as long as the process: envelopes of decoded messages
/// point at them and may outlive any registry. Only registered names are kept,
/// never names read from the wire, so the set stays as small as the registrations.
std::string_view intern(std::string_view name) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> names;
  std::lock_guard lock{mutex};
  return *names.emplace(name).first;
}

}  // namespace

bool valid_type_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string type_tag(std::string_view name, std::uint32_t version) {
  std::string tag{name};
  tag += "/v";
  tag += std::to_string(version);
  return tag;
}

bool parse_type_tag(std::string_view tag, std::string_view& name, std::uint32_t& version) noexcept {
  auto slash = tag.rfind("/v");
  if (slash == std::string_view::npos || slash + 2 >= tag.size()) return false;
  name = tag.substr(0, slash);
  if (!valid_type_name(name)) return false;
  const char* first = tag.data() + slash + 2;
  const char* last = tag.data() + tag.size();
  auto [end, ec] = std::from_chars(first, last, version);
  return ec == std::errc{} && end == last && version >= 1 && *first != '0';
}

errc codec_registry::add_erased(std::string_view name, std::uint32_t version, type_id type,
                                std::unique_ptr<codec> impl) {
  if (!valid_type_name(name) || version == 0) return errc::invalid_subject;
  auto e = std::make_shared<codec_entry>(codec_entry{intern(name), version, type, std::move(impl), type_tag(name, version)});
  std::unique_lock lock{mutex_};
  if (by_type_.contains(type) || by_name_.contains(e->tag)) return errc::already_exists;
  by_type_.emplace(type, e);
  by_name_.emplace(e->tag, e);
  return errc::ok;
}

codec_registry::codec_registry() {
  static std::atomic<std::uint64_t> registries{0};
  serial_ = registries.fetch_add(1, std::memory_order_relaxed) + 1;
}

const codec_entry* codec_registry::find(type_id type) const noexcept {
  // Every outbound message looks its type up. An entry is never removed or
  // replaced while its registry lives, so each thread remembers its last hit
  // and skips the lock and the hash for a run of one type. Misses are not
  // remembered: the type may be registered later.
  struct hit {
    std::uint64_t registry = 0;
    type_id type = 0;
    const codec_entry* entry = nullptr;
  };
  thread_local hit last;
  if (last.registry == serial_ && last.type == type) return last.entry;
  const codec_entry* entry = nullptr;
  {
    std::shared_lock lock{mutex_};
    auto it = by_type_.find(type);
    if (it == by_type_.end()) return nullptr;
    entry = it->second.get();
  }
  last = {serial_, type, entry};
  return entry;
}

const codec_entry* codec_registry::find(std::string_view name, std::uint32_t version) const noexcept {
  try {
    std::string tag = type_tag(name, version);
    std::shared_lock lock{mutex_};
    auto it = by_name_.find(tag);
    return it == by_name_.end() ? nullptr : it->second.get();
  } catch (...) {
    return nullptr;
  }
}

bool codec_registry::knows(std::string_view name) const noexcept {
  std::shared_lock lock{mutex_};
  for (const auto& [tag, e] : by_name_)
    if (e->name == name) return true;
  return false;
}

}  // namespace courier
