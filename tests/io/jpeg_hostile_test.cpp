// Hostile JPEG files: each is refused with a UsageError naming the file and the reason — never
// a libjpeg exit(), a signal, a print on stderr or an image padded with made-up grey. Also run
// under ASan/UBSan (io_sanitized_tests).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/errors.h"
#include "io/image_reader.h"
#include "io/jpeg_reader.h"
#include "tests/io/hostile_files.h"
#include "tests/io/jpeg_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;
namespace fs = std::filesystem;

// read_image(path) must throw a UsageError naming the file and containing `reason`, and print
// nothing on its own.
void expect_refused(const std::string& path, const std::string& reason, const InputLimits& limits = {}) {
  SCOPED_TRACE(path);
  ::testing::internal::CaptureStderr();
  try {
    const Image img = read_image(path, limits);
    ADD_FAILURE() << "accepted as a " << img.width << "x" << img.height << " image";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(fs::path(path).filename().string()), std::string::npos) << what;
    EXPECT_NE(what.find(reason), std::string::npos) << "expected '" << reason << "' in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a UsageError: " << e.what();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

std::string grey_jpeg(int w, int h, const JpegOptions& o = {}) { return jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 3), o); }

TEST(HostileJpeg, TruncatedAnywhereIsRefused) {
  for (const bool progressive : {false, true})
    for (const int components : {1, 3}) {
      const std::string full = jpeg_file(96, 80, components, jpeg_test_pattern(96, 80, components, 4), {.progressive = progressive});
      const size_t sos = full.find("\xFF\xDA");
      ASSERT_NE(sos, std::string::npos);
      // Inside SOI, the APP0 header, the tables, the frame header, the first scan, mid-file, the last scan, before EOI.
      for (const size_t cut : {size_t{3}, size_t{12}, size_t{40}, sos - 5, sos + 20, full.size() / 2, full.size() - 40, full.size() - 2}) {
        SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(full.size()));
        const std::string name = "cut_" + std::to_string(progressive) + std::to_string(components) + "_" + std::to_string(cut) + ".jpg";
        expect_refused(write_temp(name, full.substr(0, cut)), "JPEG");
      }
    }
}

TEST(HostileJpeg, TruncatedEntropyDataSaysPrematureEnd) {
  const std::string full = grey_jpeg(96, 80);
  expect_refused(write_temp("cut_entropy.jpg", full.substr(0, full.size() / 2)), "Premature end of JPEG file");
}

TEST(HostileJpeg, GarbageAfterSoiIsRefused) {
  std::mt19937 rng(5);
  std::string bytes = "\xFF\xD8\xFF";
  for (int i = 0; i < 400; ++i) bytes += static_cast<char>(rng() & 0xFF);
  expect_refused(write_temp("garbage.jpg", bytes), "corrupt or unsupported JPEG");
}

// A 16×16 grey JPEG whose frame header says 65500 × 65500.
std::string lying_size_jpeg() {
  std::string bytes = grey_jpeg(16, 16, {.quality = 50});
  const size_t sof = jpeg_segment(bytes, 0xC0);
  EXPECT_NE(sof, std::string::npos);
  bytes[sof + 5] = bytes[sof + 7] = static_cast<char>(0xFF);  // height, width: 0xFFDC = 65500
  bytes[sof + 6] = bytes[sof + 8] = static_cast<char>(0xDC);
  return bytes;
}

TEST(HostileJpeg, HugeDeclaredSizeIsRefusedByTheLimitBeforeDecoding) {
  const std::string bytes = lying_size_jpeg();
  EXPECT_LT(bytes.size(), 400u);
  expect_refused(write_temp("huge.jpg", bytes), "declares a 65500x65500 image");
}

TEST(HostileJpeg, HugeDeclaredSizeIsRefusedByWhatItsBytesCanEncode) {
  InputLimits generous;
  generous.max_image_pixels = int64_t{1} << 33;
  expect_refused(write_temp("huge_bytes.jpg", lying_size_jpeg()), "bytes can encode", generous);
}

// The file is read whole: one far larger than its pixels could need is refused before that.
TEST(HostileJpeg, FileLargerThanTheLimitCanNeedIsRefusedUnread) {
  InputLimits small;
  small.max_image_pixels = 1000;  // 16 kB of JPEG at most, plus 16 MiB of markers
  std::string bytes = grey_jpeg(16, 16);
  bytes.insert(2, std::string(17 << 20, '\xFF'));  // fill bytes before the first marker
  expect_refused(write_temp("bloated.jpg", bytes), "more than a JPEG of at most 1000 pixels", small);
}

TEST(HostileJpeg, ZeroLengthFileIsRefused) {
  const std::string path = write_temp("empty.jpg", "");
  expect_refused(path, "empty");
  try {
    read_jpeg(path);
    ADD_FAILURE() << "read_jpeg accepted an empty file";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.jpg: corrupt or unsupported JPEG: Empty input file"), std::string::npos)
        << e.what();
  }
}

TEST(HostileJpeg, BogusHuffmanTableIsRefused) {
  std::string bytes = grey_jpeg(32, 32);
  const size_t dht = jpeg_segment(bytes, 0xC4);
  ASSERT_NE(dht, std::string::npos);
  // The standard luminance DC table has 0, 1 and 5 codes of lengths 1, 2 and 3; three codes of
  // length 1 cannot exist (the total is kept, so the segment still parses).
  const size_t counts = dht + 5;
  ASSERT_EQ(bytes[counts], 0);
  ASSERT_EQ(bytes[counts + 2], 5);
  bytes[counts] = 3;
  bytes[counts + 2] = 2;
  expect_refused(write_temp("bogus_huffman.jpg", bytes), "Bogus Huffman table definition");
}

TEST(HostileJpeg, TwelveBitIsRefusedClearly) {
  std::string bytes = grey_jpeg(16, 16);
  const size_t sof = jpeg_segment(bytes, 0xC0);
  ASSERT_NE(sof, std::string::npos);
  bytes[sof + 1] = static_cast<char>(0xC1);  // extended sequential, where 12 bits are legal
  bytes[sof + 4] = 12;
  expect_refused(write_temp("twelve_bit.jpg", bytes), "12-bit JPEG cannot be read by this libjpeg-turbo");
}

TEST(HostileJpeg, CmykIsRefusedClearly) {
  expect_refused(write_temp("cmyk.jpg", jpeg_file(16, 16, 4, jpeg_test_pattern(16, 16, 4, 6))), "CMYK JPEG is not supported");
}

// Extraneous bytes between two markers: libjpeg warns and decodes the image correctly. The
// warning is not printed; it appears in the error of a file that then fails.
TEST(HostileJpeg, WarningsNeverReachStderrAndAreFoldedIntoTheError) {
  const std::string clean = grey_jpeg(40, 40);
  std::string noisy = clean;
  noisy.insert(jpeg_segment(noisy, 0xDB), "junk");
  ::testing::internal::CaptureStderr();
  const Image a = read_image(write_temp("noisy.jpg", noisy)), b = read_image(write_temp("clean.jpg", clean));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(a.pixels, b.pixels);
  expect_refused(write_temp("noisy_cut.jpg", noisy.substr(0, noisy.size() - 30)),
                 "[libjpeg: Corrupt JPEG data: 4 extraneous bytes before marker 0xdb]");
}

// Arithmetic coding is decoded too (libjpeg-turbo supports it) and held to the pixel limit only.
TEST(HostileJpeg, ArithmeticCodedFilesAreRead) {
  const std::string path = write_temp("arith.jpg", grey_jpeg(48, 40, {.arithmetic = true}));
  const Image img = read_image(path);
  EXPECT_EQ(img.width, 48);
  EXPECT_NE(img.facts.transfer_syntax.find("arithmetic"), std::string::npos);
}

}  // namespace
}  // namespace cxr
