#include "io/voi_transform.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <cstdio>

namespace cxr {

std::string window_label(double center, double width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "window %g/%g", center, width);
  return buf;
}

DisplayResult stored_to_display(const std::vector<int32_t>& stored, const DisplayParams& p) {
  DisplayResult out;
  out.pixels.resize(stored.size());
  const auto modality = [&](int32_t v) { return static_cast<double>(v) * p.slope + p.intercept; };
  const auto is_padding = [&](int32_t v) { return p.padding && v >= p.padding->first && v <= p.padding->second; };
  std::vector<float>& px = out.pixels;
  if (p.window) {
    const auto [center, width] = *p.window;
    for (size_t i = 0; i < stored.size(); ++i) px[i] = static_cast<float>(linear_window(modality(stored[i]), center, width));
    out.voi = window_label(center, width);
  } else if (p.voi_lut && !p.voi_lut->data.empty()) {
    const VoiLut& lut = *p.voi_lut;
    const double top = std::ldexp(1.0, lut.bits) - 1.0;
    const auto last = static_cast<int64_t>(lut.data.size()) - 1;
    for (size_t i = 0; i < stored.size(); ++i) {
      // Values below/above the LUT's range take its first/last entry (PS3.3 C.11.2.1.1).
      const auto x = static_cast<int64_t>(std::floor(modality(stored[i])));
      const int64_t k = std::clamp<int64_t>(x - lut.first_mapped, 0, last);
      px[i] = static_cast<float>(std::min(1.0, lut.data[static_cast<size_t>(k)] / top));
    }
    out.voi = "voi lut";
  } else {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int32_t v : stored)
      if (!is_padding(v)) lo = std::min(lo, modality(v)), hi = std::max(hi, modality(v));
    if (!(lo <= hi)) lo = hi = 0;  // every pixel is padding: a flat image
    // DCMTK's min–max window (dimoipxt.h), so both decoders render the same picture.
    const double center = (lo + hi + 1) / 2, width = hi - lo + 1;
    for (size_t i = 0; i < stored.size(); ++i) px[i] = static_cast<float>(linear_window(modality(stored[i]), center, width));
    out.voi = "min-max";
  }
  if (p.monochrome1)
    for (float& v : px) v = 1.0f - v;
  return out;
}

}  // namespace cxr
