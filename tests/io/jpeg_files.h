// JPEG files for the reader tests, written by libjpeg itself (nothing downloaded), and the byte
// surgery that turns them hostile: truncation, a lying frame header, a bogus Huffman table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr::testing {

struct JpegOptions {
  int quality = 90;
  bool progressive = false;
  int restart_interval = 0;  // MCUs between restart markers; 0: none
  bool arithmetic = false;
  bool optimize = false;  // Huffman tables fitted to the image (codes up to 16 bits), not the standard ones
};

// 8-bit samples, row-major, `components` (1: grey, 3: RGB, 4: CMYK) per pixel. Colour is written
// as YCbCr 4:2:0 (CMYK as Adobe CMYK), libjpeg's defaults.
std::string jpeg_file(int width, int height, int components, const std::vector<uint8_t>& samples,
                      const JpegOptions& options = {});

// A deterministic film-like pattern: gradients, a disc, stripes and noise, so that every DCT
// coefficient and every colour channel carries something.
std::vector<uint8_t> jpeg_test_pattern(int width, int height, int components, uint32_t seed);

// libjpeg's own decode to `components` (1: grey, 3: RGB), at 1/`scale_denom` of the size (its
// DCT-domain scaling); throws on any error, ignores warnings.
std::vector<uint8_t> libjpeg_decode(const std::string& bytes, int components, int& width, int& height,
                                    int scale_denom = 1);

// Offset of the first segment with marker FF `marker` before the first SOS, or npos.
size_t jpeg_segment(const std::string& bytes, unsigned char marker);

}  // namespace cxr::testing
