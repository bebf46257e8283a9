#include <atomic>

#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/type_id.hpp"

namespace courier {

type_id detail::next_type_id() noexcept {
  static std::atomic<type_id> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

const char* to_string(dead_letter_reason r) noexcept {
  switch (r) {
    case dead_letter_reason::stopped: return "stopped";
    case dead_letter_reason::unhandled: return "unhandled";
    case dead_letter_reason::shutdown: return "shutdown";
    case dead_letter_reason::failed: return "failed";
  }
  return "unknown";
}

}  // namespace courier
