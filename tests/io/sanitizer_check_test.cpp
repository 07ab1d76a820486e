// Proof that io_sanitized_tests really checks the readers: an out-of-bounds read inside reader
// code (a frame view that claims more bytes than its buffer holds) kills the process with
// AddressSanitizer's report. Built only into the sanitized binary, with its sanitizer options.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <vector>

#include "io/dicom_pixel_checks.h"

// Read by the sanitizer runtimes at start-up, so ctest and a direct run behave alike: a single
// allocation above 1 GiB is an error (no reader may allocate what a header merely declares),
// leaks are reported — except OpenJPEG's decoder, which GDCM 3.0.21 does not free when a
// codestream fails to decode (not cxrtune's memory, and nothing cxrtune can free).
extern "C" const char* __asan_default_options() {
  return "max_allocation_size_mb=1024:allocator_may_return_null=0:detect_leaks=1";
}
extern "C" const char* __lsan_default_suppressions() { return "leak:libopenjp2.so\n"; }

namespace cxr {
namespace {

// SOI, then an APP0 segment whose length runs past the 6 bytes the buffer really has.
void read_past_the_buffer() {
  auto bytes = std::make_unique<char[]>(6);
  const char head[6] = {'\xFF', '\xD8', '\xFF', '\xE0', '\x00', '\x02'};
  std::copy(head, head + 6, bytes.get());
  jpeg_frame_size(std::string_view(bytes.get(), 64));
}

TEST(Sanitizers, AnOutOfBoundsReadInReaderCodeFails) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(read_past_the_buffer(), "heap-buffer-overflow");
}

// What the 69-byte PNG of the issue made the old reader do (4.2 GB): here it aborts the test.
TEST(Sanitizers, AnAllocationAboveOneGibFails) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  volatile size_t bytes = size_t{1} << 31;
  EXPECT_DEATH(std::vector<char>(bytes).assign(1, 0), "allocation-size-too-big|exceeds maximum supported size");
}

}  // namespace
}  // namespace cxr
