// Any weights file by its contents: a zip (torch.save) or a safetensors file. The extension is
// not trusted. `limits` bounds what one file may make cxrtune allocate (callers with a recipe pass
// model.max_tensor_mib); every refusal is a UsageError naming the file.
#pragma once
#include <string>

#include "io/input_limits.h"
#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_weights(const std::string& path, const InputLimits& limits = {});

// "resnet50" from the keys and shapes of a torchvision state_dict ("unknown" otherwise).
std::string guess_arch(const StateDict& dict);

}  // namespace cxr
