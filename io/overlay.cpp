#include "io/overlay.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/errors.h"
#include "io/colormap.h"
#include "io/png_io.h"

namespace cxr {
namespace {

// 3 × 5 pixel digits for the legend labels, one row per string, '#' lit.
constexpr std::array<const char*, 5> kGlyphZero = {"###", "#.#", "#.#", "#.#", "###"};
constexpr std::array<const char*, 5> kGlyphOne = {".#.", "##.", ".#.", ".#.", "###"};

void draw_glyph(RgbImage& img, const std::array<const char*, 5>& glyph, int64_t x0, int64_t y0, int64_t scale) {
  for (int64_t gy = 0; gy < 5; ++gy)
    for (int64_t gx = 0; gx < 3; ++gx) {
      if (glyph[static_cast<size_t>(gy)][gx] != '#') continue;
      for (int64_t sy = 0; sy < scale; ++sy)
        for (int64_t sx = 0; sx < scale; ++sx) {
          const int64_t x = x0 + gx * scale + sx, y = y0 + gy * scale + sy;
          if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
          uint8_t* p = img.rgb.data() + (y * img.width + x) * 3;
          p[0] = p[1] = p[2] = 255;
        }
    }
}

// Source coordinate of output index i under align_corners=False, clamped as PyTorch does.
void source_index(int64_t i, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& frac) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double x = std::max(0.0, (static_cast<double>(i) + 0.5) * scale - 0.5);
  i0 = std::min(static_cast<int64_t>(x), in - 1);
  i1 = std::min(i0 + 1, in - 1);
  frac = x - static_cast<double>(i0);
}

}  // namespace

std::vector<float> upsample_bilinear(const float* map, int64_t h, int64_t w, int64_t out_h, int64_t out_w) {
  if (h < 1 || w < 1 || out_h < 1 || out_w < 1) throw UsageError("upsample: empty map or output");
  std::vector<float> out(static_cast<size_t>(out_h * out_w));
  for (int64_t y = 0; y < out_h; ++y) {
    int64_t y0, y1;
    double fy;
    source_index(y, h, out_h, y0, y1, fy);
    for (int64_t x = 0; x < out_w; ++x) {
      int64_t x0, x1;
      double fx;
      source_index(x, w, out_w, x0, x1, fx);
      const double top = (1 - fx) * map[y0 * w + x0] + fx * map[y0 * w + x1];
      const double bottom = (1 - fx) * map[y1 * w + x0] + fx * map[y1 * w + x1];
      out[static_cast<size_t>(y * out_w + x)] = static_cast<float>((1 - fy) * top + fy * bottom);
    }
  }
  return out;
}

std::vector<float> normalise_unit(std::vector<float> v) {
  if (v.empty()) return v;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  const double min = *lo, range = static_cast<double>(*hi) - min;
  for (float& x : v) x = range > 0 ? static_cast<float>((x - min) / range) : 0.0f;
  return v;
}

LegendGeometry legend_geometry(int64_t height) {
  LegendGeometry g;
  g.scale = std::max<int64_t>(1, height / 128);
  g.bar_x = 3 * g.scale;
  g.bar_width = 6 * g.scale;
  g.label_x = g.bar_x + g.bar_width + 2 * g.scale;
  g.width = g.label_x + 3 * g.scale + 2 * g.scale;
  return g;
}

RgbImage cam_overlay(const Image& display, const float* map, int64_t h, int64_t w, const OverlayStyle& style) {
  if (display.width < 1 || display.height < 1) throw UsageError("overlay: the image has no pixels");
  const int64_t W = display.width, H = display.height;
  const std::vector<float> m = normalise_unit(upsample_bilinear(map, h, w, H, W));
  const LegendGeometry g = legend_geometry(H);
  RgbImage out;
  out.width = W + g.width;
  out.height = H;
  out.rgb.assign(static_cast<size_t>(out.width * H * 3), 0);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const double grey = std::clamp(static_cast<double>(display.at(y, x)), 0.0, 1.0);
      const auto c = viridis(m[static_cast<size_t>(y * W + x)]);
      uint8_t* p = out.rgb.data() + (y * out.width + x) * 3;
      for (size_t ch = 0; ch < 3; ++ch)
        p[ch] = static_cast<uint8_t>(std::lround(255.0 * ((1 - style.alpha) * grey + style.alpha * c[ch])));
    }
  for (int64_t y = 0; y < H; ++y) {
    const auto c = viridis_rgb8(H > 1 ? 1.0 - static_cast<double>(y) / static_cast<double>(H - 1) : 1.0);
    for (int64_t x = 0; x < g.bar_width; ++x) std::copy(c.begin(), c.end(), out.rgb.begin() + ((y * out.width + W + g.bar_x + x) * 3));
  }
  draw_glyph(out, kGlyphOne, W + g.label_x, 0, g.scale);
  draw_glyph(out, kGlyphZero, W + g.label_x, H - 5 * g.scale, g.scale);
  return out;
}

void write_overlay_png(const std::string& path, const RgbImage& image) {
  write_png_rgb(path, image.width, image.height, image.rgb.data());
}

}  // namespace cxr
