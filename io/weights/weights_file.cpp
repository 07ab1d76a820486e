#include "io/weights/weights_file.h"

#include <fstream>

#include "core/errors.h"
#include "io/weights/pth_reader.h"
#include "io/weights/reader_errors.h"
#include "io/weights/safetensors.h"

namespace cxr {

StateDict read_weights(const std::string& path, const InputLimits& limits) {
  return as_file_error(path, [&] {
    char magic[4] = {0, 0, 0, 0};
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) throw UsageError("cannot open weights file " + path);
      in.read(magic, 4);
    }
    if (magic[0] == 'P' && magic[1] == 'K') return read_pth(path, limits);
    if (static_cast<uint8_t>(magic[0]) == 0x80) return read_pth(path, limits);  // legacy: explained there
    return read_safetensors(path, limits);
  });
}

std::string guess_arch(const StateDict& dict) {
  int blocks[4] = {0, 0, 0, 0};
  bool bottleneck = false;
  for (const NamedTensor& t : dict.tensors) {
    for (int l = 0; l < 4; ++l) {
      const std::string prefix = "layer" + std::to_string(l + 1) + ".";
      if (t.name.rfind(prefix, 0) != 0) continue;
      const int b = std::atoi(t.name.c_str() + prefix.size());
      blocks[l] = std::max(blocks[l], b + 1);
    }
    if (t.name.find(".conv3.weight") != std::string::npos) bottleneck = true;
  }
  const int total = blocks[0] + blocks[1] + blocks[2] + blocks[3];
  if (!bottleneck && total == 8) return "resnet18";
  if (!bottleneck && total == 16) return "resnet34";
  if (bottleneck && total == 16) return "resnet50";
  if (bottleneck && total == 33) return "resnet101";
  return "unknown";
}

}  // namespace cxr
