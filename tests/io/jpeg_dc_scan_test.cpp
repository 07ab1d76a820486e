// The DC scan decoder (io/jpeg_dc_scan.h) against libjpeg-turbo's own 1/8 decode of the same
// file, byte for byte: sizes that are not whole blocks, every quality's quantisers, the standard
// and image-fitted Huffman tables (codes up to 16 bits), restart markers, noise that needs the
// long codes and large magnitudes. A damaged file either reads as libjpeg reads it or is refused;
// a file the decoder does not take (progressive, arithmetic, colour, another scale) still reads
// through libjpeg. Part of the sanitized hostile-file suite too.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/jpeg_reader.h"
#include "tests/io/hostile_files.h"
#include "tests/io/jpeg_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;

// The hint at which a w×h file is read at 1/8 (the shorter side over 8, rounded up).
DecodeHints eighth(int w, int h) { return DecodeHints{(std::min(w, h) + 7) / 8}; }

std::vector<uint8_t> grey_levels(const Image& img) {
  std::vector<uint8_t> out(img.pixels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::lround(img.pixels[i] * 255.0));
  return out;
}

// Uniform noise: no coefficient is small, so the long codes and the large categories all occur.
std::vector<uint8_t> noise(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(static_cast<size_t>(w) * h);
  for (auto& v : out) v = static_cast<uint8_t>(rng() & 0xFF);
  return out;
}

struct Case {
  int width, height;
  JpegOptions options;
  bool noisy;
};

std::string describe(const Case& c) {
  return std::to_string(c.width) + "x" + std::to_string(c.height) + " q" + std::to_string(c.options.quality) +
         " restart " + std::to_string(c.options.restart_interval) + (c.options.optimize ? " optimized" : "") +
         (c.noisy ? " noise" : " pattern");
}

TEST(JpegDcScan, EqualsLibjpegsEighthScaleByteForByte) {
  std::vector<Case> cases;
  for (const auto& [w, h] : {std::pair{8, 8}, std::pair{9, 17}, std::pair{333, 257}, std::pair{1001, 777}, std::pair{64, 2050}})
    for (const int quality : {10, 75, 90, 100})
      for (const int restart : {0, 1, 7, 64})
        for (const bool optimize : {false, true}) cases.push_back({w, h, {quality, false, restart, false, optimize}, false});
  for (const int quality : {50, 95, 100})
    for (const bool optimize : {false, true}) cases.push_back({400, 300, {quality, false, 5, false, optimize}, true});
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(describe(c));
    const auto samples = c.noisy ? noise(c.width, c.height, static_cast<uint32_t>(i))
                                 : jpeg_test_pattern(c.width, c.height, 1, static_cast<uint32_t>(i));
    const std::string bytes = jpeg_file(c.width, c.height, 1, samples, c.options);
    int w = 0, h = 0;
    const std::vector<uint8_t> expected = libjpeg_decode(bytes, 1, w, h, 8);
    const Image ours = read_jpeg(write_temp("dc_scan.jpg", bytes), {}, eighth(c.width, c.height));
    EXPECT_NE(ours.facts.decoder.find("cxrtune DC scan decoder"), std::string::npos) << ours.facts.decoder;
    ASSERT_EQ(ours.width, w);
    ASSERT_EQ(ours.height, h);
    ASSERT_EQ(grey_levels(ours), expected);
  }
}

// Files outside what the decoder takes go through libjpeg as before, at the same scale.
TEST(JpegDcScan, OtherFilesStillReadThroughLibjpeg) {
  const int w = 333, h = 257;
  const auto grey = jpeg_test_pattern(w, h, 1, 3);
  for (const JpegOptions& o : {JpegOptions{90, true, 0, false, false}, JpegOptions{90, false, 0, true, false}}) {
    const Image img = read_jpeg(write_temp("dc_scan_other.jpg", jpeg_file(w, h, 1, grey, o)), {}, eighth(w, h));
    EXPECT_EQ(img.facts.decoder, "libjpeg-turbo");
    EXPECT_EQ(img.width, (w + 7) / 8);
  }
  const Image colour =
      read_jpeg(write_temp("dc_scan_colour.jpg", jpeg_file(w, h, 3, jpeg_test_pattern(w, h, 3, 4))), {}, eighth(w, h));
  EXPECT_EQ(colour.facts.decoder, "libjpeg-turbo");
  const Image quarter = read_jpeg(write_temp("dc_scan_quarter.jpg", jpeg_file(w, h, 1, grey)), {}, DecodeHints{60});
  EXPECT_EQ(quarter.facts.decoder, "libjpeg-turbo");
  EXPECT_EQ(quarter.width, (w + 3) / 4);
}

// Damage anywhere in the entropy-coded data: the read either refuses the file (UsageError, as
// libjpeg's reading does for data it had to make up) or gives exactly libjpeg's 1/8 pixels.
TEST(JpegDcScan, DamagedDataReadsAsLibjpegReadsItOrIsRefused) {
  const int w = 200, h = 150;
  for (const int restart : {0, 3}) {
    const std::string good = jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 7), {90, false, restart, false, false});
    const size_t sos = jpeg_segment(good, 0xDA);
    ASSERT_NE(sos, std::string::npos);
    std::mt19937 rng(11 + restart);
    int refused = 0, read = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = good;
      const size_t at = sos + 14 + rng() % (bad.size() - sos - 16);
      bad[at] = static_cast<char>(trial % 3 == 0 ? 0xFF : rng() & 0xFF);
      SCOPED_TRACE("restart " + std::to_string(restart) + ", byte " + std::to_string(at));
      try {
        const Image ours = read_jpeg(write_temp("dc_scan_damaged.jpg", bad), {}, eighth(w, h));
        int lw = 0, lh = 0;
        ASSERT_EQ(grey_levels(ours), libjpeg_decode(bad, 1, lw, lh, 8));
        ++read;
      } catch (const UsageError&) {
        ++refused;
      }
    }
    EXPECT_GT(refused, 0);
    EXPECT_GT(read, 0);
  }
}

// Restart markers out of sequence and a file cut short are refused, naming the file.
TEST(JpegDcScan, RestartsOutOfSequenceAndTruncationAreRefused) {
  const int w = 200, h = 150;
  const std::string good = jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 8), {90, false, 4, false, false});
  const size_t first = good.find("\xFF\xD0", jpeg_segment(good, 0xDA));
  const size_t second = good.find("\xFF\xD1", first);
  ASSERT_NE(second, std::string::npos);
  std::string swapped = good;
  swapped[first + 1] = '\xD1';
  swapped[second + 1] = '\xD0';
  const std::string path = write_temp("dc_scan_rst.jpg", swapped);
  try {
    read_jpeg(path, {}, eighth(w, h));
    ADD_FAILURE() << "restart markers out of sequence were read";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  for (const size_t cut : {good.size() - 2, good.size() / 2})
    EXPECT_THROW(read_jpeg(write_temp("dc_scan_cut.jpg", good.substr(0, cut)), {}, eighth(w, h)), UsageError);
}

}  // namespace
}  // namespace cxr
