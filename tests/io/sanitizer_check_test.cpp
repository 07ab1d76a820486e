// Proof that io_sanitized_tests really checks the readers: an out-of-bounds read inside reader
// code (a frame view that claims more bytes than its buffer holds) kills the process with
// AddressSanitizer's report. Built only into the sanitized binary.
#include <gtest/gtest.h>

#include <memory>
#include <string_view>

#include "io/dicom_pixel_checks.h"

namespace cxr {
namespace {

TEST(Sanitizers, AnOutOfBoundsReadInReaderCodeFails) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        // SOI, then an APP0 segment whose length runs past the 6-byte buffer.
        auto bytes = std::make_unique<char[]>(6);
        const char head[6] = {'\xFF', '\xD8', '\xFF', '\xE0', '\x00', '\x02'};
        std::copy(head, head + 6, bytes.get());
        jpeg_frame_size(std::string_view(bytes.get(), 64));
      },
      "heap-buffer-overflow");
}

}  // namespace
}  // namespace cxr
