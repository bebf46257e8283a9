#pragma once

#include <cstddef>

namespace courier::detail {

/// Allocation for messages and actors: mimalloc when Courier is built with
/// COURIER_USE_MIMALLOC (the default), the global operator new otherwise.
void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

/// Gives a class Courier's allocator through class-scope operator new/delete.
struct uses_courier_allocator {
  static void* operator new(std::size_t size) { return allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { deallocate(p, size); }
};

}  // namespace courier::detail
