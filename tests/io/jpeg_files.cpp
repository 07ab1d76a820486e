#include "tests/io/jpeg_files.h"

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include <jpeglib.h>

namespace cxr::testing {
namespace {

// Test-side libjpeg error handling: longjmp back, then throw outside libjpeg's frames.
struct Jump {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};

[[noreturn]] void jump_out(j_common_ptr c) { std::longjmp(reinterpret_cast<Jump*>(c->err)->jump, 1); }
void quiet(j_common_ptr, int) {}

bool compress(jpeg_compress_struct& c, int width, int height, int components, const uint8_t* samples,
              const JpegOptions& o, unsigned char** out, unsigned long* size) {
  Jump& err = *reinterpret_cast<Jump*>(c.err);
  if (setjmp(err.jump)) return false;
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, out, size);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, o.quality, TRUE);
  c.restart_interval = static_cast<unsigned>(o.restart_interval);
  c.arith_code = o.arithmetic ? TRUE : FALSE;
  c.optimize_coding = o.optimize ? TRUE : FALSE;
  if (o.progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    auto* row = const_cast<JSAMPROW>(samples + static_cast<size_t>(c.next_scanline) * width * components);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  return true;
}

bool decompress(jpeg_decompress_struct& c, const std::string& bytes, int components, int scale_denom, uint8_t** pixels,
                int& w, int& h) {
  Jump& err = *reinterpret_cast<Jump*>(c.err);
  if (setjmp(err.jump)) return false;
  jpeg_create_decompress(&c);
  jpeg_mem_src(&c, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&c, TRUE);
  c.out_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  c.scale_num = 1;
  c.scale_denom = static_cast<unsigned>(scale_denom);
  jpeg_start_decompress(&c);
  w = static_cast<int>(c.output_width);
  h = static_cast<int>(c.output_height);
  *pixels = static_cast<uint8_t*>(std::malloc(static_cast<size_t>(w) * h * components));
  while (c.output_scanline < c.output_height) {
    JSAMPROW row = *pixels + static_cast<size_t>(c.output_scanline) * w * components;
    jpeg_read_scanlines(&c, &row, 1);
  }
  jpeg_finish_decompress(&c);
  return true;
}

}  // namespace

std::string jpeg_file(int width, int height, int components, const std::vector<uint8_t>& samples,
                      const JpegOptions& options) {
  if (samples.size() != static_cast<size_t>(width) * height * components) throw std::invalid_argument("jpeg_file: size");
  jpeg_compress_struct c{};
  Jump err{};
  c.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jump_out;
  err.mgr.emit_message = quiet;
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const bool ok = compress(c, width, height, components, samples.data(), options, &out, &size);
  jpeg_destroy_compress(&c);
  std::string bytes(reinterpret_cast<const char*>(out), ok ? size : 0);
  std::free(out);
  if (!ok) throw std::runtime_error("libjpeg could not write the test JPEG");
  return bytes;
}

std::vector<uint8_t> jpeg_test_pattern(int width, int height, int components, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 6.0);
  std::vector<uint8_t> out(static_cast<size_t>(width) * height * components);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double u = static_cast<double>(x) / width, v = static_cast<double>(y) / height;
      const double disc = std::hypot(u - 0.4, v - 0.55) < 0.25 ? 70.0 : 0.0;
      const double stripes = std::sin(v * 40.0 + u * 6.0) > 0.7 ? 45.0 : 0.0;
      for (int ch = 0; ch < components; ++ch) {
        const double base = 30.0 + 150.0 * (ch % 2 ? 1.0 - u : u) * (0.6 + 0.4 * v) + ch * 12.0;
        const double value = base + disc * (ch == 1 ? -0.5 : 1.0) + stripes + noise(rng);
        out[(static_cast<size_t>(y) * width + x) * components + ch] =
            static_cast<uint8_t>(std::lround(std::fmin(255.0, std::fmax(0.0, value))));
      }
    }
  return out;
}

std::vector<uint8_t> libjpeg_decode(const std::string& bytes, int components, int& width, int& height, int scale_denom) {
  jpeg_decompress_struct c{};
  Jump err{};
  c.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jump_out;
  err.mgr.emit_message = quiet;
  uint8_t* pixels = nullptr;
  const bool ok = decompress(c, bytes, components, scale_denom, &pixels, width, height);
  jpeg_destroy_decompress(&c);
  std::vector<uint8_t> out;
  if (ok) out.assign(pixels, pixels + static_cast<size_t>(width) * height * components);
  std::free(pixels);
  if (!ok) throw std::runtime_error("libjpeg could not decode the test JPEG");
  return out;
}

size_t jpeg_segment(const std::string& b, unsigned char marker) {
  size_t pos = 2;  // after SOI
  while (pos + 4 <= b.size() && static_cast<unsigned char>(b[pos]) == 0xFF) {
    const auto m = static_cast<unsigned char>(b[pos + 1]);
    if (m == marker) return pos;
    if (m == 0xDA) break;  // SOS: entropy-coded data follows
    pos += 2 + (static_cast<size_t>(static_cast<unsigned char>(b[pos + 2])) << 8 | static_cast<unsigned char>(b[pos + 3]));
  }
  return std::string::npos;
}

}  // namespace cxr::testing
