// Synthetic PA chest radiographs for the demo and the tests: thorax soft tissue, two lung fields
// with diaphragm domes, heart silhouette, spine, ribs and clavicles, with exposure, position,
// size and noise varying per image. PNEUMONIA images add patchy or lobar consolidations inside
// the lung fields (never outside them). Deterministic for (seed, index). Display values in
// [0, 1], bone bright.
#pragma once
#include <cstdint>

#include "io/image.h"

namespace cxr {

struct PhantomSpec {
  int64_t size = 256;
  bool pneumonia = false;
  uint64_t seed = 0;
  uint64_t index = 0;
};

Image make_chest_phantom(const PhantomSpec& spec);

}  // namespace cxr
