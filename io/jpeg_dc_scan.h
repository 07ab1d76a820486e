// The 1/8-scale decode of a sequential (baseline) Huffman-coded greyscale JPEG, the common chest
// film (CheXpert, MIMIC-CXR-JPG, Kermany), without libjpeg's per-block machinery. At 1/8 libjpeg
// runs its 1×1 IDCT, which reads one coefficient per block (the DC), yet its decoder still zeroes,
// fills and hands on a whole coefficient block for each of the film's 65,536 blocks. Here the AC
// codes are only skipped (one table look-up per code, its magnitude bits included) and every
// block's pixel is written as jpeg_idct_1x1 writes it: the same bytes as libjpeg-turbo's own 1/8
// decode (tests/io/jpeg_dc_scan_test.cpp compares them on varied files).
//
// The decode gives up (returns false, writes nothing useful) on anything it does not take or
// does not expect: a bad Huffman table or code, a scan that ends early, restart markers out of
// sequence, a marker other than EOI after the scan. The caller then decodes the file with
// libjpeg, whose reading of damaged data (and its message) stays the one users get.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cxr {

// What jpeg_read_header learned of a one-component sequential Huffman scan of 8-bit samples.
struct DcScan {
  int64_t width = 0, height = 0;  // the image's, in pixels
  unsigned restart_interval = 0;  // blocks per restart interval (DRI); 0: none
  int dc_quantizer = 0;           // the component's quantisation step of coefficient 0
  // The scan's Huffman tables as a JPEG stores them (libjpeg's JHUFF_TBL): counts[k] codes of
  // length k for k = 1..16 (counts[0] unused), then their symbols in code order.
  const uint8_t* dc_counts = nullptr;
  const uint8_t* dc_symbols = nullptr;
  const uint8_t* ac_counts = nullptr;
  const uint8_t* ac_symbols = nullptr;
  const unsigned char* data = nullptr;  // the entropy-coded data after SOS, to the end of the file
  size_t size = 0;
};

// Fills `pixels` with ceil(width/8) × ceil(height/8) grey levels, row-major; false: see above.
bool decode_dc_scan(const DcScan& scan, std::vector<unsigned char>& pixels);

}  // namespace cxr
