#include "io/transforms.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace cxr {
namespace {

// 1-D antialiased resampling weights (triangle filter widened by the downscale factor).
struct Taps {
  std::vector<int64_t> first;
  std::vector<std::vector<float>> weights;
};

Taps taps(int64_t in, int64_t out) {
  Taps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = std::max(scale, 1.0);
  for (int64_t o = 0; o < out; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const auto lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(center - support)));
    const auto hi = std::min<int64_t>(in, static_cast<int64_t>(std::ceil(center + support)));
    std::vector<float> w;
    double sum = 0;
    for (int64_t i = lo; i < hi; ++i) {
      const double x = std::max(0.0, 1.0 - std::abs((static_cast<double>(i) + 0.5 - center) / support));
      w.push_back(static_cast<float>(x));
      sum += x;
    }
    for (float& v : w) v = static_cast<float>(v / sum);
    t.first.push_back(lo);
    t.weights.push_back(std::move(w));
  }
  return t;
}

float bilinear(const Image& img, double x, double y) {
  x = std::clamp(x - 0.5, 0.0, static_cast<double>(img.width - 1));
  y = std::clamp(y - 0.5, 0.0, static_cast<double>(img.height - 1));
  const auto x0 = static_cast<int64_t>(x), y0 = static_cast<int64_t>(y);
  const int64_t x1 = std::min(x0 + 1, img.width - 1), y1 = std::min(y0 + 1, img.height - 1);
  const double fx = x - static_cast<double>(x0), fy = y - static_cast<double>(y0);
  return static_cast<float>((1 - fy) * ((1 - fx) * img.at(y0, x0) + fx * img.at(y0, x1)) +
                            fy * ((1 - fx) * img.at(y1, x0) + fx * img.at(y1, x1)));
}

}  // namespace

Image resize(const Image& src, int64_t width, int64_t height) {
  if (src.width == width && src.height == height) return src;
  const Taps tx = taps(src.width, width), ty = taps(src.height, height);
  std::vector<float> mid(static_cast<size_t>(src.height * width));
  for (int64_t y = 0; y < src.height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      float acc = 0;
      const auto& w = tx.weights[static_cast<size_t>(x)];
      for (size_t k = 0; k < w.size(); ++k) acc += w[k] * src.at(y, tx.first[static_cast<size_t>(x)] + static_cast<int64_t>(k));
      mid[static_cast<size_t>(y * width + x)] = acc;
    }
  Image out;
  out.width = width;
  out.height = height;
  out.facts = src.facts;
  out.pixels.resize(static_cast<size_t>(width * height));
  for (int64_t y = 0; y < height; ++y) {
    const auto& w = ty.weights[static_cast<size_t>(y)];
    for (int64_t x = 0; x < width; ++x) {
      float acc = 0;
      for (size_t k = 0; k < w.size(); ++k)
        acc += w[k] * mid[static_cast<size_t>((ty.first[static_cast<size_t>(y)] + static_cast<int64_t>(k)) * width + x)];
      out.pixels[static_cast<size_t>(y * width + x)] = acc;
    }
  }
  return out;
}

int64_t working_size(const TransformConfig& c) {
  // Augmentation crops down to 80 % of the area: keep that much headroom at full resolution.
  return c.augment ? static_cast<int64_t>(std::ceil(static_cast<double>(c.size) / std::sqrt(0.8))) : c.size;
}

DecodeHints decode_hints(const TransformConfig& c) { return DecodeHints{working_size(c)}; }

Image working_image(const Image& src, const TransformConfig& c) {
  const int64_t s = working_size(c);
  if (std::min(src.width, src.height) == s) return src;
  const double scale = static_cast<double>(s) / static_cast<double>(std::min(src.width, src.height));
  return resize(src, std::max<int64_t>(s, std::llround(src.width * scale)), std::max<int64_t>(s, std::llround(src.height * scale)));
}

void to_tensor(const Image& img, const TransformConfig& c, std::mt19937_64& rng, float* out) {
  const int64_t n = c.size;
  std::vector<float> plane(static_cast<size_t>(n * n));
  if (!c.augment) {
    const int64_t x0 = (img.width - n) / 2, y0 = (img.height - n) / 2;
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) plane[static_cast<size_t>(y * n + x)] = img.at(y0 + y, x0 + x);
  } else {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const double area = static_cast<double>(img.width * img.height) * (0.8 + 0.2 * u(rng));
    const double ratio = std::exp(std::log(3.0 / 4.0) + u(rng) * std::log(16.0 / 9.0));
    const double cw = std::min(static_cast<double>(img.width), std::sqrt(area * ratio));
    const double ch = std::min(static_cast<double>(img.height), std::sqrt(area / ratio));
    const double cx = cw / 2 + u(rng) * (static_cast<double>(img.width) - cw);
    const double cy = ch / 2 + u(rng) * (static_cast<double>(img.height) - ch);
    const double angle = (u(rng) * 20.0 - 10.0) * std::numbers::pi / 180.0;
    const double brightness = 0.9 + 0.2 * u(rng), contrast = 0.9 + 0.2 * u(rng);
    const bool flip = c.hflip && u(rng) < 0.5;
    const double cs = std::cos(angle), sn = std::sin(angle);
    double mean = 0;
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) {
        double dx = ((static_cast<double>(x) + 0.5) / static_cast<double>(n) - 0.5) * cw;
        const double dy = ((static_cast<double>(y) + 0.5) / static_cast<double>(n) - 0.5) * ch;
        if (flip) dx = -dx;
        const float v = bilinear(img, cx + cs * dx - sn * dy, cy + sn * dx + cs * dy);
        plane[static_cast<size_t>(y * n + x)] = v;
        mean += v;
      }
    mean /= static_cast<double>(n * n);
    for (float& v : plane)
      v = static_cast<float>(std::clamp(((v - mean) * contrast + mean) * brightness, 0.0, 1.0));
  }
  static const float mean3[3] = {0.485f, 0.456f, 0.406f}, std3[3] = {0.229f, 0.224f, 0.225f};
  for (int64_t ch = 0; ch < c.channels; ++ch) {
    const float m = c.channels == 3 ? mean3[ch] : 0.449f, s = c.channels == 3 ? std3[ch] : 0.226f;
    float* dst = out + ch * n * n;
    for (size_t i = 0; i < plane.size(); ++i) dst[i] = (plane[i] - m) / s;
  }
}

}  // namespace cxr
