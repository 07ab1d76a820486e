#include "predict/cam_files.h"

#include <algorithm>
#include <filesystem>

#include "core/errors.h"
#include "io/npy_writer.h"
#include "io/overlay.h"

namespace cxr {

namespace fs = std::filesystem;

Image display_from_input(const float* input, int64_t channels, int64_t size) {
  // The normalisation of transforms.h: channel 0 is the red channel of ImageNet's statistics, or
  // their average for one-channel models. All channels hold the same grey, so channel 0 suffices.
  const float mean = channels == 3 ? 0.485f : 0.449f, std = channels == 3 ? 0.229f : 0.226f;
  Image img;
  img.width = img.height = size;
  img.pixels.resize(static_cast<size_t>(size * size));
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = std::clamp(input[i] * std + mean, 0.0f, 1.0f);
  return img;
}

void write_cam_files(const std::string& cam_dir, const std::string& relative, const float* map, int64_t h, int64_t w,
                     const Image& display) {
  const fs::path base = fs::path(cam_dir) / relative;
  std::error_code ec;
  fs::create_directories(base.parent_path(), ec);
  if (ec) throw UsageError("--cam " + cam_dir + ": cannot create " + base.parent_path().string() + ": " + ec.message());
  write_npy_f32(base.string() + ".cam.npy", {h, w}, map, h * w);
  write_overlay_png(base.string() + ".cam.png", cam_overlay(display, map, h, w));
}

}  // namespace cxr
