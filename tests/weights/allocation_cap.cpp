#include "tests/weights/allocation_cap.h"

#include <cstdlib>
#include <new>

namespace cxr::fixture {
namespace {

size_t g_cap = static_cast<size_t>(-1);
int64_t g_refused = 0;
size_t g_largest = 0;

}  // namespace

AllocationCap::AllocationCap(size_t max_bytes) {
  g_cap = max_bytes;
  g_refused = 0;
  g_largest = 0;
}

AllocationCap::~AllocationCap() { g_cap = static_cast<size_t>(-1); }

int64_t AllocationCap::refused() const { return g_refused; }

size_t AllocationCap::largest() const { return g_largest; }

}  // namespace cxr::fixture

// Every non-aligned form is replaced, so that memory never passes between this allocator and
// another one (ASan's, which would report the mismatch); aligned forms stay the library's.
namespace {

void* allocate(size_t n) {
  using namespace cxr::fixture;
  if (n > g_largest) g_largest = n;
  if (n > g_cap) {
    ++g_refused;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

void* allocate_or_null(size_t n) noexcept {
  try {
    return allocate(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace

void* operator new(size_t n) { return allocate(n); }
void* operator new[](size_t n) { return allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return allocate_or_null(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return allocate_or_null(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
