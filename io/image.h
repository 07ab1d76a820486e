// Image: one decoded chest X-ray as the display image of docs/images.md — one channel, float
// values in [0, 1] where 1 is bright (bone), row-major. The facts that describe how it was
// derived travel with it; none of them identify a patient.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

struct ImageFacts {
  std::string format;        // "dicom" | "png" | "synthetic"
  std::string decoder;       // "dcmtk" | "gdcm" (JPEG 2000) | "libpng"
  std::string modality;      // DICOM CR, DX, ...
  std::string photometric;   // MONOCHROME1 | MONOCHROME2 | RGB (PNG colour converted)
  std::string transfer_syntax;
  int bits_stored = 0;
  bool is_signed = false;
  double rescale_slope = 1.0, rescale_intercept = 0.0;
  std::string voi;           // "window 1600/2800" (the window used), "voi lut", "min-max", "none (png)"
};

struct Image {
  int64_t width = 0, height = 0;
  std::vector<float> pixels;  // height × width, [0, 1]
  ImageFacts facts;

  float at(int64_t y, int64_t x) const { return pixels[static_cast<size_t>(y * width + x)]; }
};

}  // namespace cxr
