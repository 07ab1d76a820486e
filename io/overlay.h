// Grad-CAM overlays: a heatmap over the image the model saw, with a colour legend.
//   upsample_bilinear: torch.nn.functional.interpolate(mode="bilinear", align_corners=False)
//     (half-pixel centres, edge samples clamped), from h × w to out_h × out_w.
//   normalise_unit: (v − min) / (max − min); all 0 when the values are all equal (a map that
//     ReLU left at 0 everywhere shows nothing).
//   cam_overlay: the display image (one channel, [0, 1], W × H), the map upsampled to W × H,
//     normalised, coloured with viridis (io/colormap.h) and blended per pixel
//     out = (1 − alpha)·grey + alpha·viridis(m), each channel rounded to 8 bits; then, to the
//     right (legend_geometry), on black: a bar as tall as the image running from viridis(1) in its
//     top row to viridis(0) in its bottom row, "1" beside its top and "0" beside its bottom in
//     white. The output is RGB, W + legend width wide and H tall.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"

namespace cxr {

struct RgbImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height × width × 3, row-major

  const uint8_t* at(int64_t y, int64_t x) const { return rgb.data() + (y * width + x) * 3; }
};

std::vector<float> upsample_bilinear(const float* map, int64_t h, int64_t w, int64_t out_h, int64_t out_w);

std::vector<float> normalise_unit(std::vector<float> values);

// Where the legend lies in an overlay of an image `height` tall: everything scales with
// max(1, height / 128) so that it stays legible on large images.
struct LegendGeometry {
  int64_t scale = 1;
  int64_t width = 0;      // the legend's width, added to the image's
  int64_t bar_x = 0;      // first bar column, from the legend's left edge
  int64_t bar_width = 0;
  int64_t label_x = 0;    // first label column, from the legend's left edge
};
LegendGeometry legend_geometry(int64_t height);

struct OverlayStyle {
  double alpha = 0.45;  // weight of the colour map; the image keeps 1 − alpha
};

// UsageError when the map is empty or the image has no pixels.
RgbImage cam_overlay(const Image& display, const float* map, int64_t h, int64_t w, const OverlayStyle& style = {});

// An 8-bit RGB PNG (io/png_io.cpp's writer for colour images).
void write_overlay_png(const std::string& path, const RgbImage& image);

}  // namespace cxr
