#include "courier/bus/envelope.hpp"

#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "courier/runtime/random.hpp"

namespace courier {

uuid uuid::v7() noexcept {
  thread_local splitmix64 rng{std::random_device{}() ^
                              std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1};
  const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  const std::uint64_t r1 = rng.next();
  const std::uint64_t r2 = rng.next();
  uuid u;
  u.hi = (ms << 16) | 0x7000 | (r1 & 0x0fff);            // version 7
  u.lo = (r2 & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return u;
}

std::string uuid::to_string() const {
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                     lo >> 48, lo & 0xffffffffffffULL);
}

}  // namespace courier
