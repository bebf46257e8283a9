#include "courier/runtime/memory.hpp"

#include <new>

#if COURIER_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace courier::detail {

#if COURIER_USE_MIMALLOC
void* allocate(std::size_t size) {
  void* p = mi_malloc(size);
  if (p == nullptr) throw std::bad_alloc{};
  return p;
}
void deallocate(void* p, std::size_t size) noexcept { mi_free_size(p, size); }
#else
void* allocate(std::size_t size) { return ::operator new(size); }
void deallocate(void* p, std::size_t size) noexcept { ::operator delete(p, size); }
#endif

}  // namespace courier::detail
