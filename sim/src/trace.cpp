#include "courier/sim/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
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
    case event::round: return "round";
    case event::fanout: return "fanout";
  }
  return "unknown";
}

std::uint64_t subject_hash(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

namespace {
// xxHash64 (Yann Collet, https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
constexpr std::uint64_t prime1 = 0x9e3779b185ebca87ULL;
constexpr std::uint64_t prime2 = 0xc2b2ae3d27d4eb4fULL;
constexpr std::uint64_t prime3 = 0x165667b19e3779f9ULL;
constexpr std::uint64_t prime4 = 0x85ebca77c2b2ae63ULL;
constexpr std::uint64_t prime5 = 0x27d4eb2f165667c5ULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }
constexpr std::uint64_t round(std::uint64_t acc, std::uint64_t input) noexcept {
  return rotl(acc + input * prime2, 31) * prime1;
}
constexpr std::uint64_t merge(std::uint64_t h, std::uint64_t lane) noexcept {
  return (h ^ round(0, lane)) * prime1 + prime4;
}
std::uint64_t word(const unsigned char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
/// Folds one 32-byte stripe into the four lanes.
void stripe(std::array<std::uint64_t, 4>& lanes, const unsigned char* p) noexcept {
  for (std::size_t i = 0; i < 4; ++i) lanes[i] = round(lanes[i], word(p + 8 * i));
}
}  // namespace

void trace::digest() noexcept {
  keep_staged();
  // Local lanes: the stage is read as bytes, which may alias the members.
  std::array<std::uint64_t, 4> v = lanes_;
  const auto* bytes = reinterpret_cast<const unsigned char*>(stage_.data());
  for (std::size_t at = 0; at < sizeof stage_; at += 32) stripe(v, bytes + at);
  lanes_ = v;
  count_ += stage_records;
  staged_ = 0;
  kept_staged_ = 0;
}

void trace::keep_staged() const {
  const std::size_t room = capacity_ - std::min(capacity_, records_.size());
  const std::size_t n = std::min(room, staged_ - std::min(staged_, kept_staged_));
  if (n != 0) {
    if (records_.capacity() < records_.size() + n)
      records_.reserve(std::min(capacity_, std::max(records_.size() * 2, records_.size() + n)));
    records_.insert(records_.end(), stage_.begin() + static_cast<std::ptrdiff_t>(kept_staged_),
                    stage_.begin() + static_cast<std::ptrdiff_t>(kept_staged_ + n));
  }
  kept_staged_ = staged_;
}

void trace::name_subject(std::uint64_t hash, std::string_view subject) {
  if (records_.size() < capacity_) subjects_.try_emplace(hash, subject);
}

void trace::name_subscription(std::uint32_t id, std::string_view pattern) { patterns_.try_emplace(id, pattern); }

std::uint64_t trace::hash() const noexcept {
  if (from_file_) return file_hash_;
  // The lanes cover whole stages; finish over the staged records, as
  // xxHash64 finishes a message whose last bytes are these.
  std::array<std::uint64_t, 4> v = lanes_;
  const auto* bytes = reinterpret_cast<const unsigned char*>(stage_.data());
  const std::size_t len = staged_ * sizeof(record);
  std::size_t at = 0;
  for (; at + 32 <= len; at += 32) stripe(v, bytes + at);
  const std::uint64_t total = count() * sizeof(record);
  std::uint64_t h = prime5;
  if (total >= 32) {
    h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    for (std::uint64_t lane : v) h = merge(h, lane);
  }
  h += total;
  for (; at + 8 <= len; at += 8) h = rotl(h ^ round(0, word(bytes + at)), 27) * prime1 + prime4;
  h ^= h >> 33;
  h *= prime2;
  h ^= h >> 29;
  h *= prime3;
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
    case event::round: return s + fmt::format(" of {} turns, shuffled from {:016x}", r.subscription, r.value);
    case event::timers: return s + fmt::format(" fired {}", r.value);
    case event::fanout: return s + fmt::format(" to {} more subscriptions <- {}", r.subscription, subject());
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
  for (const record& r : records()) {
    if (n++ == limit) break;
    fmt::print(out, "{}\n", describe(r));
  }
  fmt::print(out, "{} records ({} kept), trace hash: {:016x}\n", count(), records_.size(), hash());
}

namespace {
constexpr char magic[8] = {'C', 'R', 'S', 'I', 'M', 'T', 'R', '2'};

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
  const std::vector<record>& kept = records();
  bool ok = std::fwrite(magic, 1, sizeof magic, f.get()) == sizeof magic && put(f.get(), hash()) &&
            put(f.get(), count()) && put(f.get(), static_cast<std::uint64_t>(kept.size())) &&
            (kept.empty() ||
             std::fwrite(kept.data(), sizeof(record), kept.size(), f.get()) == kept.size()) &&
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
  t.from_file_ = true;
  t.file_hash_ = get<std::uint64_t>(f.get());
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
