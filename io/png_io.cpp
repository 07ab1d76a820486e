#include "io/png_io.h"

#include <png.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <vector>

#include "core/errors.h"

namespace cxr {
namespace {

// libpng reports errors by longjmp. The decoding runs in a function that owns no C++ objects
// with destructors between setjmp and the libpng calls, and throws nothing: refusals and
// libpng's messages come back as text.
struct ErrorSink {
  char message[512] = {0};
  char warnings[512] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", msg);
  png_longjmp(png, 1);
}
// Warnings are kept for the error message, never printed.
void on_warning(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  const size_t used = std::strlen(sink->warnings);
  if (used + 4 < sizeof sink->warnings)
    std::snprintf(sink->warnings + used, sizeof sink->warnings - used, "%s%s", used ? "; " : "", msg);
}

// Deflate cannot expand a byte to more than 1032 (RFC 1951's longest match per 2-bit code),
// so a file of n bytes holds at most about 1032·n bytes of filtered image data.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct Decoded {
  png_uint_32 width = 0, height = 0;
  int channels = 0, depth = 0, color_type = 0;
  int significant_bits = 0;         // sBIT (largest of its channels); 0: absent
  std::vector<unsigned char> data;  // rows of width·channels samples (16-bit: big-endian)
};

// The declared size against the limit and against what `file_bytes` can hold, before anything
// is allocated. Returns false with `sink.message` set.
bool size_fits(png_structp png, png_infop info, uint64_t file_bytes, const InputLimits& limits, ErrorSink& sink) {
  const uint64_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  const uint64_t bits = static_cast<uint64_t>(png_get_bit_depth(png, info)) * png_get_channels(png, info);
  if (w == 0 || h == 0 || w * h > static_cast<uint64_t>(limits.max_image_pixels)) {
    std::snprintf(sink.message, sizeof sink.message,
                  "declares a %llux%llu image (%llu pixels), more than the limit of %lld pixels (data.max_image_pixels)",
                  static_cast<unsigned long long>(w), static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(w * h), static_cast<long long>(limits.max_image_pixels));
    return false;
  }
  // w, h < 2^31 (PNG) and bits <= 64: no overflow in 64 bits.
  const uint64_t filtered = h * (1 + (w * bits + 7) / 8);
  if (filtered > file_bytes * kMaxDeflateRatio) {
    std::snprintf(sink.message, sizeof sink.message,
                  "declares %llux%llu pixels (%llu bytes of image data), more than its %llu bytes can hold",
                  static_cast<unsigned long long>(w), static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(filtered), static_cast<unsigned long long>(file_bytes));
    return false;
  }
  return true;
}

bool allocate(Decoded& out, std::vector<png_bytep>& rows, size_t rowbytes, ErrorSink& sink) {
  try {
    out.data.resize(rowbytes * out.height);
    rows.resize(out.height);
  } catch (const std::bad_alloc&) {
    std::snprintf(sink.message, sizeof sink.message, "out of memory for %ux%u pixels", out.width, out.height);
    return false;
  }
  for (png_uint_32 y = 0; y < out.height; ++y) rows[y] = out.data.data() + y * rowbytes;
  return true;
}

// Returns false with sink.message set on failure. Rows are read into `rows`.
bool decode(std::FILE* f, uint64_t file_bytes, const InputLimits& limits, Decoded& out, ErrorSink& sink,
            std::vector<png_bytep>& rows) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  if (!size_fits(png, info, file_bytes, limits, sink)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_color_8p sbit = nullptr;
  if (png_get_color_type(png, info) != PNG_COLOR_TYPE_PALETTE && png_get_sBIT(png, info, &sbit) && sbit) {
    const bool colour = png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR;
    out.significant_bits = colour ? std::max({sbit->red, sbit->green, sbit->blue}) : sbit->gray;
  }
  png_set_expand(png);      // palette → RGB, grey < 8 bits → 8, tRNS → alpha
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out.width = png_get_image_width(png, info);
  out.height = png_get_image_height(png, info);
  out.depth = png_get_bit_depth(png, info);
  out.channels = png_get_channels(png, info);
  out.color_type = png_get_color_type(png, info);
  if (out.significant_bits >= out.depth) out.significant_bits = 0;
  if (!allocate(out, rows, png_get_rowbytes(png, info), sink)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// A 16-bit image that uses less than an eighth of its range without saying so (no sBIT) is
// probably 10- or 12-bit data stored unscaled: it will look nearly black. Said once per run.
std::atomic<bool> narrow_range_reported{false};

}  // namespace

Image read_png(const std::string& path, const InputLimits& limits) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw UsageError("cannot open " + path);
  unsigned char sig[8];
  if (std::fread(sig, 1, 8, f.get()) != 8 || png_sig_cmp(sig, 0, 8) != 0) throw UsageError(path + ": not a PNG file");
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  std::rewind(f.get());
  Decoded d;
  ErrorSink sink;
  std::vector<png_bytep> rows;
  if (!decode(f.get(), ec ? 0 : file_bytes, limits, d, sink, rows))
    throw UsageError(path + ": " + (std::strncmp(sink.message, "declares", 8) == 0 ? "" : "corrupt PNG: ") + sink.message +
                     (sink.warnings[0] ? std::string(" (libpng: ") + sink.warnings + ")" : std::string()));
  Image img;
  img.width = d.width;
  img.height = d.height;
  img.facts.format = "png";
  img.facts.decoder = "libpng";
  img.facts.bits_stored = d.significant_bits ? d.significant_bits : d.depth;
  img.facts.photometric = d.channels >= 3 ? "RGB" : "MONOCHROME2";
  img.facts.voi = "none (png)";
  const size_t n = static_cast<size_t>(img.width * img.height);
  const size_t samples = n * static_cast<size_t>(d.channels);
  auto raw = [&](size_t i) -> uint32_t {
    return d.depth == 16 ? static_cast<uint32_t>(d.data[2 * i] << 8 | d.data[2 * i + 1]) : d.data[i];
  };
  uint32_t largest = 0;
  for (size_t i = 0; i < samples; ++i) largest = std::max(largest, raw(i));
  // With sBIT, values are scaled by the significant bits: a conforming writer has shifted them
  // up to the full depth (PNG spec 12.5), but many store them unshifted — all below 2^sBIT,
  // which a shifted image reaches only if it uses less than 1/2^(depth − sBIT) of its range.
  int shift = 0;
  double max = d.depth == 16 ? 65535.0 : 255.0;
  if (d.significant_bits) {
    max = std::ldexp(1.0, d.significant_bits) - 1.0;
    if (largest > max) shift = d.depth - d.significant_bits;
  } else if (d.depth == 16 && largest < 8192 && !narrow_range_reported.exchange(true)) {
    std::fprintf(stderr,
                 "cxrtune: warning: %s: 16-bit PNG uses values up to %u of 65535 and has no sBIT chunk: it will look "
                 "nearly black (write sBIT, or scale the values; further such files are not reported)\n",
                 path.c_str(), largest);
  }
  img.pixels.resize(n);
  auto sample = [&](size_t i) -> double { return static_cast<double>(raw(i) >> shift); };
  for (size_t p = 0; p < n; ++p) {
    double v;
    if (d.channels >= 3) {
      const size_t base = p * static_cast<size_t>(d.channels);
      v = 0.299 * sample(base) + 0.587 * sample(base + 1) + 0.114 * sample(base + 2);
    } else {
      v = sample(p * static_cast<size_t>(d.channels));
    }
    img.pixels[p] = static_cast<float>(std::min(1.0, v / max));
  }
  return img;
}

void write_png(const std::string& path, const Image& image, int bits) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) throw RuntimeFailure("cannot create " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) throw RuntimeFailure("libpng: out of memory writing " + path);
  const size_t bytes = bits == 16 ? 2 : 1;
  std::vector<unsigned char> data(static_cast<size_t>(image.width * image.height) * bytes);
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    const double v = std::clamp(static_cast<double>(image.pixels[i]), 0.0, 1.0);
    if (bits == 16) {
      const auto u = static_cast<uint16_t>(std::lround(v * 65535.0));
      data[2 * i] = static_cast<unsigned char>(u >> 8);
      data[2 * i + 1] = static_cast<unsigned char>(u & 0xff);
    } else {
      data[i] = static_cast<unsigned char>(std::lround(v * 255.0));
    }
  }
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int64_t y = 0; y < image.height; ++y) rows[static_cast<size_t>(y)] = data.data() + y * image.width * static_cast<int64_t>(bytes);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw RuntimeFailure("libpng failed writing " + path);
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), bits,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
}

void write_png_rgb(const std::string& path, int64_t width, int64_t height, const uint8_t* rgb) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) throw RuntimeFailure("cannot create " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) throw RuntimeFailure("libpng: out of memory writing " + path);
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) rows[static_cast<size_t>(y)] = const_cast<png_bytep>(rgb + y * width * 3);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw RuntimeFailure("libpng failed writing " + path);
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // These are Grad-CAM overlays, written once per predicted image: zlib's fastest level and one
  // fixed row filter (Sub suits smooth colour maps) instead of level 6 with libpng's five-filter
  // trial per row, which cost more than the Grad-CAM arithmetic (bench/predict_bench.sh).
  png_set_compression_level(png, 1);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(f.get()) != 0 || std::ferror(f.get())) throw RuntimeFailure("cannot write " + path);
}

}  // namespace cxr
