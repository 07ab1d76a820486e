// Reads PyTorch's zip checkpoints (torch.save with the default zip format, torch >= 1.6):
// <prefix>/data.pkl (the pickle, read by the restricted unpickler) and <prefix>/data/<key>
// (raw little-endian storages), whatever the prefix folder is called. Accepts a plain
// state_dict, or a dict holding it under "state_dict" or "model"; strips "module." prefixes
// (DataParallel); copies strided views into contiguous tensors; several tensors may share a
// storage. The legacy non-zip format is refused with how to re-save it.
#pragma once
#include <string>

#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_pth(const std::string& path);

}  // namespace cxr
