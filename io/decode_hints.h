// What the caller of an image reader will do with the image, so that a reader can take a
// cheaper path that gives the same result. Passed next to InputLimits (input_limits.h); the
// default asks for the full-size image. Only the JPEG reader uses it today (DCT-domain scaling,
// jpeg_reader.h); the other readers ignore it and always return the full size.
#pragma once
#include <cstdint>

namespace cxr {

struct DecodeHints {
  // The image's shorter side will be resized down to this many pixels (the loader's working
  // size, transforms.h). 0: the full-size image is wanted (inspect, tests).
  int64_t smallest_side = 0;
};

}  // namespace cxr
