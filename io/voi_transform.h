// The display pipeline of docs/images.md as plain arithmetic over decoded stored values (DCMTK's
// decoders for most syntaxes, GDCM for JPEG 2000): stored values → Rescale Slope/Intercept →
// VOI (a linear window, PS3.3 C.11.2.1.2, or a VOI LUT; with neither, the min–max of the
// modality values, padding excluded, as DCMTK's setMinMaxWindow computes it) → MONOCHROME1
// inverted → [0, 1]. Pixels inside the Pixel Padding range are left out of the min–max only;
// they are displayed like any other value (clamped by the window).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cxr {

// The stored pixel cells of one greyscale frame as a decoder left them (8 or 16 bits
// allocated, host byte order). Bits above bits_stored (overlays, garbage) are ignored; signed
// values are sign-extended from bits_stored.
struct StoredCells {
  const void* data = nullptr;
  size_t count = 0;
  int bits_allocated = 16;  // 8 or 16
  int bits_stored = 16;     // 1 .. bits_allocated
  bool is_signed = false;
};

struct VoiLut {
  int64_t first_mapped = 0;     // the input value that maps to entry 0 (LUT Descriptor, 2nd value)
  int bits = 16;                // bits per entry (LUT Descriptor, 3rd value)
  std::vector<uint16_t> data;   // LUT Data
};

struct DisplayParams {
  double slope = 1.0, intercept = 0.0;
  std::optional<std::pair<double, double>> window;  // (center, width), width ≥ 1
  std::optional<VoiLut> voi_lut;                    // used when there is no window
  std::optional<std::pair<int64_t, int64_t>> padding;  // stored-value range [lo, hi]
  bool monochrome1 = false;
};

// Returns display values in [0, 1], row-major, and the VOI that was used, as ImageFacts::voi
// spells it (an empty LUT counts as none). The pipeline is evaluated once per possible stored
// value into a table of 2^bits_stored entries, then each pixel is one masked lookup: a 5-Mpixel
// film costs two passes over its cells.
struct DisplayResult {
  std::vector<float> pixels;
  std::string voi;
};
DisplayResult cells_to_display(const StoredCells& cells, const DisplayParams& params);

// "window C/W" as ImageFacts::voi spells it, whichever decoder rendered the image.
std::string window_label(double center, double width);

// PS3.3 C.11.2.1.2 linear function, y in [0, 1].
inline double linear_window(double x, double center, double width) {
  const double lo = center - 0.5 - (width - 1) / 2, hi = center - 0.5 + (width - 1) / 2;
  if (x <= lo) return 0.0;
  if (x > hi) return 1.0;
  return width <= 1 ? 1.0 : (x - (center - 0.5)) / (width - 1) + 0.5;
}

}  // namespace cxr
