// The backends compiled into this build, by name: "reference" (plain loops, the truth for
// tests), "onednn" (CPU), "cudnn" (GPU). The one place that knows which exist.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/layer_registry.h"

namespace cxr {

// Registers every op definition and every layer of every compiled backend.
void register_all_layers(LayerRegistry& registry);

// Names of the backends compiled in ("cudnn" only when built with CUDA).
std::vector<std::string> compiled_backends();

// Whether the backend can run on this machine (cudnn: a GPU and a driver are present).
bool backend_usable(const std::string& name, std::string* why = nullptr);

// Creates a backend by name; "cpu" means onednn (reference when built without oneDNN),
// "cuda" means cudnn, "auto" cudnn when usable else cpu. `compute` is train.precision (F32, BF16,
// F16); UsageError for an unknown or unusable backend or a precision it cannot compute in.
// `conv_algorithm` (train.conv_algorithm): "direct", or "winograd" for oneDNN's Winograd
// F(4×4, 3×3) on 3×3 stride-1 f32 convolutions (other backends choose their own algorithms).
std::unique_ptr<Backend> make_backend(const std::string& name, int threads, DType compute = DType::F32,
                                      const std::string& conv_algorithm = "direct");

}  // namespace cxr
