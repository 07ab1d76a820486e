// .safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
// then the data. Reading checks everything a hostile file could lie about: the header length
// against the file size, dtypes (F32, F16, BF16, I64), element counts (overflow-checked) against
// byte spans, offsets inside the data area, and no two tensors overlapping. Any violation is a
// UsageError naming the file and the tensor.
#pragma once
#include <string>
#include <string_view>

#include "io/weights/state_dict.h"

namespace cxr {

StateDict read_safetensors(const std::string& path);
// Parses a whole file image already in memory (`what` names it in errors). Fuzzed.
StateDict parse_safetensors(std::string_view bytes, const std::string& what);

// Writes atomically (temp file, fsync, rename).
void write_safetensors(const std::string& path, const StateDict& dict);
std::string serialize_safetensors(const StateDict& dict);

}  // namespace cxr
