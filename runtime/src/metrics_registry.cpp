// Per-thread metric shards and the process-wide actor type names.
#include "courier/runtime/detail/metrics_registry.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <map>

namespace courier::detail {
namespace {

struct type_names {
  std::mutex mutex;
  std::map<std::string, std::uint32_t, std::less<>> index_of;  // by mangled name
  std::vector<std::string> names{""};                        // by index; 0 is unassigned
};

type_names& types() {
  static type_names t;
  return t;
}

std::string readable(const char* mangled) {
  int status = 0;
  char* raw = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string s = status == 0 && raw != nullptr ? raw : mangled;
  std::free(raw);
  return s;
}

std::atomic<std::uint64_t> next_registry_id{1};

}  // namespace

std::uint32_t register_actor_type(const std::type_info& type) noexcept {
  type_names& t = types();
  std::lock_guard lock{t.mutex};
  if (auto it = t.index_of.find(type.name()); it != t.index_of.end()) return it->second;
  if (t.names.size() > max_actor_types) return max_actor_types;  // the shared overflow slot
  const auto index = static_cast<std::uint32_t>(t.names.size());
  t.names.push_back(index == max_actor_types ? std::string{"(other)"} : readable(type.name()));
  t.index_of.emplace(type.name(), index);
  return index;
}

std::string actor_type_name(std::uint32_t index) {
  type_names& t = types();
  std::lock_guard lock{t.mutex};
  return index < t.names.size() ? t.names[index] : std::string{"(other)"};
}

metrics_shard::~metrics_shard() {
  for (auto& s : slots_) delete s.load(std::memory_order_relaxed);
}

type_counters& metrics_shard::grow(std::uint32_t type) {
  auto* fresh = new type_counters;
  // release: readers' acquire in peek() see the counters fully constructed.
  slots_[type].store(fresh, std::memory_order_release);
  return *fresh;
}

metrics_registry::metrics_registry(std::uint32_t time_every)
    : id_{next_registry_id.fetch_add(1, std::memory_order_relaxed)}, every_{time_every} {}

metrics_shard& metrics_registry::attach() {
  const std::thread::id me = std::this_thread::get_id();
  std::lock_guard lock{mutex_};
  metrics_shard* mine = nullptr;
  for (const auto& [thread, shard] : shards_)
    if (thread == me) mine = shard.get();
  if (mine == nullptr) {
    shards_.emplace_back(me, std::make_unique<metrics_shard>());
    mine = shards_.back().second.get();
  }
  metrics_cache = metrics_thread_cache{id_, mine, 1};  // the first call is timed
  return *mine;
}

}  // namespace courier::detail
