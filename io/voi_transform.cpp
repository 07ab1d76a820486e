#include "io/voi_transform.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/errors.h"

namespace cxr {
namespace {

// Calls f(cell & mask) for every pixel, over 8- or 16-bit cells.
template <typename F>
void for_each_masked(const StoredCells& c, uint32_t mask, F&& f) {
  if (c.bits_allocated == 8) {
    const auto* p = static_cast<const uint8_t*>(c.data);
    for (size_t i = 0; i < c.count; ++i) f(i, p[i] & mask);
  } else {
    const auto* p = static_cast<const uint16_t*>(c.data);
    for (size_t i = 0; i < c.count; ++i) f(i, p[i] & mask);
  }
}

}  // namespace

std::string window_label(double center, double width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "window %g/%g", center, width);
  return buf;
}

DisplayResult cells_to_display(const StoredCells& c, const DisplayParams& p) {
  if ((c.bits_allocated != 8 && c.bits_allocated != 16) || c.bits_stored < 1 || c.bits_stored > c.bits_allocated)
    throw UsageError(std::to_string(c.bits_stored) + " bits stored in " + std::to_string(c.bits_allocated) +
                     " allocated is not supported (8 or 16 allocated)");
  const uint32_t entries = 1u << c.bits_stored, mask = entries - 1;
  // The stored value a masked cell holds: sign-extended from bits_stored when signed.
  const auto stored = [&](uint32_t m) {
    return c.is_signed && (m >> (c.bits_stored - 1)) ? static_cast<int64_t>(m) - entries : static_cast<int64_t>(m);
  };
  const auto modality = [&](int64_t v) { return static_cast<double>(v) * p.slope + p.intercept; };
  const auto is_padding = [&](int64_t v) { return p.padding && v >= p.padding->first && v <= p.padding->second; };

  DisplayResult out;
  std::vector<double> y(entries);  // display value of every possible cell, before inversion
  if (p.window) {
    const auto [center, width] = *p.window;
    for (uint32_t m = 0; m < entries; ++m) y[m] = linear_window(modality(stored(m)), center, width);
    out.voi = window_label(center, width);
  } else if (p.voi_lut && !p.voi_lut->data.empty()) {
    const VoiLut& lut = *p.voi_lut;
    const double top = std::ldexp(1.0, lut.bits) - 1.0;
    const auto last = static_cast<int64_t>(lut.data.size()) - 1;
    for (uint32_t m = 0; m < entries; ++m) {
      // Values below/above the LUT's range take its first/last entry (PS3.3 C.11.2.1.1).
      const auto x = static_cast<int64_t>(std::floor(modality(stored(m))));
      const int64_t k = std::clamp<int64_t>(x - lut.first_mapped, 0, last);
      y[m] = std::min(1.0, lut.data[static_cast<size_t>(k)] / top);
    }
    out.voi = "voi lut";
  } else {
    // Min–max of the modality values present, padding excluded: one pass marks the values.
    std::vector<uint8_t> present(entries, 0);
    for_each_masked(c, mask, [&](size_t, uint32_t m) { present[m] = 1; });
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (uint32_t m = 0; m < entries; ++m)
      if (present[m] && !is_padding(stored(m))) lo = std::min(lo, modality(stored(m))), hi = std::max(hi, modality(stored(m)));
    if (!(lo <= hi)) lo = hi = 0;  // every pixel is padding: a flat image
    // DCMTK's min–max window (dimoipxt.h), so both decoders render the same picture.
    const double center = (lo + hi + 1) / 2, width = hi - lo + 1;
    for (uint32_t m = 0; m < entries; ++m) y[m] = linear_window(modality(stored(m)), center, width);
    out.voi = "min-max";
  }
  std::vector<float> table(entries);
  for (uint32_t m = 0; m < entries; ++m) table[m] = static_cast<float>(p.monochrome1 ? 1.0 - y[m] : y[m]);
  out.pixels.resize(c.count);
  float* px = out.pixels.data();
  for_each_masked(c, mask, [&](size_t i, uint32_t m) { px[i] = table[m]; });
  return out;
}

}  // namespace cxr
