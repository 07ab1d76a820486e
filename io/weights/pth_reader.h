// Reads PyTorch's zip checkpoints (torch.save with the default zip format, torch >= 1.6):
// <prefix>/data.pkl (the pickle, read by the restricted unpickler) and <prefix>/data/<key>
// (raw little-endian storages), whatever the prefix folder is called. Accepts a plain
// state_dict, or a dict holding it under "state_dict" or "model"; strips "module." prefixes
// (DataParallel); copies strided views into contiguous tensors; several tensors may share a
// storage. The legacy non-zip format is refused with how to re-save it.
//
// Everything a file declares is checked before a byte of tensor data is read or anything it
// declares is allocated: sizes, strides and offsets non-negative, the furthest element of every
// view computed without wrapping and inside its storage, each storage's declared bytes equal to
// its zip entry's size, and that size possible for the entry's compressed bytes in this file.
// A tensor (and a shared storage, which is read whole) larger than limits.max_tensor_bytes is
// refused; so is NaN or infinity in a float tensor. Every failure, including any std::exception
// from inside, is a UsageError naming the file (and the tensor where there is one).
#pragma once
#include <string>
#include <string_view>

#include "io/input_limits.h"
#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_pth(const std::string& path, const InputLimits& limits = {});

// The same from a whole file image in memory; `what` names it in errors. Fuzzed.
StateDict parse_pth(std::string_view bytes, const std::string& what, const InputLimits& limits = {});

}  // namespace cxr
