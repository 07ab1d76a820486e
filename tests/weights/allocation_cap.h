// Test helper: while an AllocationCap is alive, any single operator-new request larger than its
// cap throws std::bad_alloc, as on a machine without that much memory, and is counted. It proves
// that a reader refuses a file that lies about its sizes *before* allocating what the file
// declares, without the test allocating gigabytes. The binary that links allocation_cap.cpp
// replaces the global operator new (forwarding to malloc); outside a cap nothing changes.
// Single-threaded use only (the tests that take a cap read files on one thread).
#pragma once
#include <cstddef>
#include <cstdint>

namespace cxr::fixture {

class AllocationCap {
 public:
  explicit AllocationCap(size_t max_bytes);
  ~AllocationCap();
  AllocationCap(const AllocationCap&) = delete;
  AllocationCap& operator=(const AllocationCap&) = delete;

  // Requests over the cap since this cap was made.
  int64_t refused() const;
  // The largest request seen since this cap was made, refused or not.
  size_t largest() const;
};

}  // namespace cxr::fixture
