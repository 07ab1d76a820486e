// .safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
// then the data. Reading checks everything a hostile file could lie about: the header length
// against the file size, dtypes (F32, F16, BF16, I64), element counts (overflow-checked) against
// byte spans, offsets inside the data area, no two tensors overlapping, each tensor within
// limits.max_tensor_bytes, and no NaN or infinity in a float tensor. Any violation, and any
// std::exception from inside, is a UsageError naming the file (and the tensor); a file that is no
// safetensors file at all (a recipe given as weights) is refused as "not a safetensors file (why)".
#pragma once
#include <string>
#include <string_view>

#include "io/input_limits.h"
#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_safetensors(const std::string& path, const InputLimits& limits = {});
// Parses a whole file image already in memory (`what` names it in errors). Fuzzed.
StateDict parse_safetensors(std::string_view bytes, const std::string& what, const InputLimits& limits = {});

// Writes atomically (temp file, fsync, rename).
void write_safetensors(const std::string& path, const StateDict& dict);
std::string serialize_safetensors(const StateDict& dict);

}  // namespace cxr
