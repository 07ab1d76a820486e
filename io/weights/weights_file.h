// Any weights file by its contents: a zip (torch.save) or a safetensors file. The extension is
// not trusted.
#pragma once
#include <string>

#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_weights(const std::string& path);

// "resnet50" from the keys and shapes of a torchvision state_dict ("unknown" otherwise).
std::string guess_arch(const StateDict& dict);

}  // namespace cxr
