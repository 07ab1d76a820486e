// How much a file may make cxrtune allocate. A header can lie: a 69-byte PNG can declare
// 65536×65536 pixels and a 500-byte .pth 2^34 floats. Every reader checks the sizes a file
// declares against these limits (and against what the file itself can hold) before it allocates,
// and refuses beyond them with a UsageError naming the file (exit 2).
//
// The defaults are far above any chest X-ray or torchvision model and far below what would take
// a workstation down: the largest flat-panel detectors are about 4300×4300 (18.5 Mpx) and the
// largest tensor of a torchvision classifier (ViT-H/14's) is under 100 MiB. Recipes override
// them with data.max_image_pixels and model.max_tensor_mib.
#pragma once
#include <cstdint>

namespace cxr {

struct InputLimits {
  int64_t max_image_pixels = int64_t{8192} * 8192;      // per frame, after decoding: 64 Mpx
  int64_t max_tensor_bytes = int64_t{2048} << 20;       // per tensor once materialised: 2 GiB
};

}  // namespace cxr
