#include "courier/bus/envelope.hpp"

#include <time.h>

#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "courier/runtime/random.hpp"

namespace courier {

uuid uuid::v7() noexcept {
  thread_local splitmix64 rng{std::random_device{}() ^
                              std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1};
  // The coarse clock is a plain read of the kernel's last tick, several
  // times cheaper than a precise clock_gettime on a VM's clock source; the
  // id's time field only orders ids roughly, so a tick's resolution will do.
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  const auto ms = static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
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
