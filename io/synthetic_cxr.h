// Synthetic PA chest radiographs for the demo and the tests: thorax soft tissue, two lung fields
// with diaphragm domes, heart silhouette, spine, ribs and clavicles, with exposure, position,
// size and noise varying per image. PNEUMONIA images add patchy or lobar consolidations inside
// the lung fields (never outside them); CARDIOMEGALY images enlarge the heart silhouette (a
// cardiothoracic ratio above 0.5 instead of about 0.4); NODULES images add 2-5 small, sharply
// edged round opacities in the lungs. Deterministic for (seed, index, findings); an image with
// only `pneumonia` set (or none) is the same as before the other findings existed. Display
// values in [0, 1], bone bright.
#pragma once
#include <cstdint>

#include "io/image.h"

namespace cxr {

struct PhantomSpec {
  int64_t size = 256;
  bool pneumonia = false;
  uint64_t seed = 0;
  uint64_t index = 0;
  bool cardiomegaly = false;
  bool nodules = false;
};

Image make_chest_phantom(const PhantomSpec& spec);

}  // namespace cxr
