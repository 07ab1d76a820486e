// Preprocessing (docs/images.md "Preprocessing"): the display image is resized keeping its aspect
// (antialiased triangle filter, as PIL/torchvision with antialias) so its shorter side is the
// working size, then centre-cropped to image_size × image_size (an image already at that size is
// untouched), replicated to 3 channels when in_channels is 3, and normalised with the ImageNet
// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); one channel uses their averages
// (0.449, 0.226). `augment: standard` replaces the centre crop with a random resized crop (area
// 0.8–1, aspect 3/4–4/3), a rotation of ±10°, brightness and contrast ±10%, and, only when asked,
// a horizontal flip (off by default: the heart is on one side).
#pragma once
#include <cstdint>
#include <random>

#include "io/decode_hints.h"
#include "io/image.h"

namespace cxr {

struct TransformConfig {
  int64_t size = 224;
  int64_t channels = 3;
  bool augment = false;
  bool hflip = false;
};

// Antialiased resize to exactly width × height.
Image resize(const Image& src, int64_t width, int64_t height);
// The cached form of an image: shorter side `working_size(config)`.
Image working_image(const Image& src, const TransformConfig& config);
int64_t working_size(const TransformConfig& config);
// What to tell read_image (image_reader.h) when its image goes to working_image: the shorter
// side wanted, so a JPEG can be decoded smaller in the DCT domain.
DecodeHints decode_hints(const TransformConfig& config);

// Writes channels × size × size normalised floats. `rng` drives the augmentation (unused
// when config.augment is false).
void to_tensor(const Image& working, const TransformConfig& config, std::mt19937_64& rng, float* out);

}  // namespace cxr
