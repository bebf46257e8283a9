#include "courier/sim/trace.hpp"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace courier::sim {

const char* to_string(event e) noexcept {
  switch (e) {
    case event::turn: return "turn";
    case event::deliver: return "deliver";
    case event::timers: return "timers";
    case event::drop: return "drop";
    case event::duplicate: return "duplicate";
    case event::delay: return "delay";
    case event::reorder: return "reorder";
    case event::release: return "release";
    case event::cancelled: return "cancelled";
  }
  return "unknown";
}

std::uint64_t subject_hash(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

void trace::keep(const record& r) {
  if (records_.capacity() == records_.size()) records_.reserve(std::min(capacity_, records_.size() * 2 + 1024));
  records_.push_back(r);
}

void trace::name_subject(std::uint64_t hash, std::string_view subject) {
  if (records_.size() < capacity_) subjects_.try_emplace(hash, subject);
}

void trace::name_subscription(std::uint32_t id, std::string_view pattern) { patterns_.try_emplace(id, pattern); }

std::uint64_t trace::hash() const noexcept {
  // xxHash64's final avalanche, over the running hash and the record count.
  std::uint64_t h = hash_ ^ (count_ * 0x165667b19e3779f9ULL);
  h ^= h >> 33;
  h *= 0xc2b2ae3d27d4eb4fULL;
  h ^= h >> 29;
  h *= 0x165667b19e3779f9ULL;
  h ^= h >> 32;
  return h;
}

std::string trace::describe(const record& r) const {
  std::string s = fmt::format("t={}.{:09}s {}", r.time / 1'000'000'000, r.time % 1'000'000'000, to_string(r.what));
  auto subject = [&] {
    auto it = subjects_.find(r.value);
    return it != subjects_.end() ? it->second : fmt::format("subject#{:016x}", r.value);
  };
  auto sub = [&] {
    auto it = patterns_.find(r.subscription);
    return it != patterns_.end() ? fmt::format("sub#{} {}", r.subscription, it->second)
                                 : fmt::format("sub#{}", r.subscription);
  };
  switch (r.what) {
    case event::turn: return s + fmt::format(" picked {} of {} ready", r.value, r.subscription);
    case event::timers: return s + fmt::format(" fired {}", r.value);
    case event::deliver:
    case event::drop:
    case event::cancelled: s += fmt::format(" {} <- {}", sub(), subject()); break;
    case event::duplicate: s += fmt::format(" {} +{} copies", sub(), r.value); break;
    case event::delay: s += fmt::format(" {} by {}ns", sub(), r.value); break;
    case event::reorder: s += fmt::format(" {} held ({} waiting)", sub(), r.value); break;
    case event::release: s += fmt::format(" {} let {} go", sub(), r.value); break;
  }
  if (r.fault != 0) s += fmt::format(" [fault {}]", r.fault - 1);
  return s;
}

void trace::print(std::FILE* out, std::size_t limit) const {
  std::size_t n = 0;
  for (const record& r : records_) {
    if (n++ == limit) break;
    fmt::print(out, "{}\n", describe(r));
  }
  fmt::print(out, "{} records ({} kept), trace hash: {:016x}\n", count_, records_.size(), hash());
}

namespace {
constexpr char magic[8] = {'C', 'R', 'S', 'I', 'M', 'T', 'R', '1'};

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

template <class T>
bool put(std::FILE* f, const T& v) {
  return std::fwrite(&v, sizeof v, 1, f) == 1;
}
bool put_string(std::FILE* f, const std::string& s) {
  return put(f, static_cast<std::uint32_t>(s.size())) && std::fwrite(s.data(), 1, s.size(), f) == s.size();
}
template <class T>
T get(std::FILE* f) {
  T v{};
  if (std::fread(&v, sizeof v, 1, f) != 1) throw std::runtime_error("trace file is truncated");
  return v;
}
std::string get_string(std::FILE* f) {
  auto n = get<std::uint32_t>(f);
  if (n > 4096) throw std::runtime_error("trace file has an oversized name");
  std::string s(n, '\0');
  if (n != 0 && std::fread(s.data(), 1, n, f) != n) throw std::runtime_error("trace file is truncated");
  return s;
}
}  // namespace

bool trace::write(const std::string& path) const {
  file_ptr f{std::fopen(path.c_str(), "wb")};
  if (!f) return false;
  bool ok = std::fwrite(magic, 1, sizeof magic, f.get()) == sizeof magic && put(f.get(), hash_) &&
            put(f.get(), count_) && put(f.get(), static_cast<std::uint64_t>(records_.size())) &&
            (records_.empty() ||
             std::fwrite(records_.data(), sizeof(record), records_.size(), f.get()) == records_.size()) &&
            put(f.get(), static_cast<std::uint64_t>(subjects_.size()));
  for (const auto& [h, s] : subjects_) ok = ok && put(f.get(), h) && put_string(f.get(), s);
  ok = ok && put(f.get(), static_cast<std::uint64_t>(patterns_.size()));
  for (const auto& [id, p] : patterns_) ok = ok && put(f.get(), id) && put_string(f.get(), p);
  return ok && std::fflush(f.get()) == 0;
}

trace trace::read(const std::string& path) {
  file_ptr f{std::fopen(path.c_str(), "rb")};
  if (!f) throw std::runtime_error("cannot open trace file " + path);
  char head[sizeof magic];
  if (std::fread(head, 1, sizeof head, f.get()) != sizeof head || std::memcmp(head, magic, sizeof magic) != 0)
    throw std::runtime_error(path + " is not a Courier trace");
  trace t{0};
  t.hash_ = get<std::uint64_t>(f.get());
  t.count_ = get<std::uint64_t>(f.get());
  const auto kept = get<std::uint64_t>(f.get());
  if (kept > t.count_) throw std::runtime_error("trace file keeps more records than it counts");
  t.capacity_ = static_cast<std::size_t>(kept);
  for (std::uint64_t i = 0; i < kept; ++i) t.records_.push_back(get<record>(f.get()));
  for (auto n = get<std::uint64_t>(f.get()); n > 0; --n) {
    auto h = get<std::uint64_t>(f.get());
    t.subjects_.emplace(h, get_string(f.get()));
  }
  for (auto n = get<std::uint64_t>(f.get()); n > 0; --n) {
    auto id = get<std::uint32_t>(f.get());
    t.patterns_.emplace(id, get_string(f.get()));
  }
  return t;
}

}  // namespace courier::sim
