#include "io/png_io.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/errors.h"

namespace cxr {
namespace {

// libpng reports errors by longjmp. The decoding runs in a function that owns no C++ objects
// with destructors between setjmp and the libpng calls; the message comes back as a string.
struct ErrorSink {
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", msg);
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

struct Decoded {
  png_uint_32 width = 0, height = 0;
  int channels = 0, depth = 0, color_type = 0;
  std::vector<unsigned char> data;  // rows of width·channels samples (16-bit: big-endian)
};

// Returns false with sink.message set on failure. Rows are read into `rows`, pre-sized.
bool decode(std::FILE* f, Decoded& out, ErrorSink& sink, std::vector<png_bytep>& rows) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  png_set_expand(png);      // palette → RGB, grey < 8 bits → 8, tRNS → alpha
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  out.width = png_get_image_width(png, info);
  out.height = png_get_image_height(png, info);
  out.depth = png_get_bit_depth(png, info);
  out.channels = png_get_channels(png, info);
  out.color_type = png_get_color_type(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  if (out.width == 0 || out.height == 0 || out.width > 65536 || out.height > 65536) {
    std::snprintf(sink.message, sizeof sink.message, "image size %ux%u out of range", out.width, out.height);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  out.data.resize(rowbytes * out.height);
  rows.resize(out.height);
  for (png_uint_32 y = 0; y < out.height; ++y) rows[y] = out.data.data() + y * rowbytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

Image read_png(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw UsageError("cannot open " + path);
  unsigned char sig[8];
  if (std::fread(sig, 1, 8, f.get()) != 8 || png_sig_cmp(sig, 0, 8) != 0) throw UsageError(path + ": not a PNG file");
  std::rewind(f.get());
  Decoded d;
  ErrorSink sink;
  std::vector<png_bytep> rows;
  if (!decode(f.get(), d, sink, rows)) throw UsageError(path + ": corrupt PNG (" + sink.message + ")");
  Image img;
  img.width = d.width;
  img.height = d.height;
  img.facts.format = "png";
  img.facts.decoder = "libpng";
  img.facts.bits_stored = d.depth;
  img.facts.photometric = d.channels >= 3 ? "RGB" : "MONOCHROME2";
  img.facts.voi = "none (png)";
  const double max = d.depth == 16 ? 65535.0 : 255.0;
  const size_t n = static_cast<size_t>(img.width * img.height);
  img.pixels.resize(n);
  auto sample = [&](size_t i) -> double {
    return d.depth == 16 ? (d.data[2 * i] << 8 | d.data[2 * i + 1]) : d.data[i];
  };
  for (size_t p = 0; p < n; ++p) {
    double v;
    if (d.channels >= 3) {
      const size_t base = p * static_cast<size_t>(d.channels);
      v = 0.299 * sample(base) + 0.587 * sample(base + 1) + 0.114 * sample(base + 2);
    } else {
      v = sample(p * static_cast<size_t>(d.channels));
    }
    img.pixels[p] = static_cast<float>(v / max);
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

}  // namespace cxr
