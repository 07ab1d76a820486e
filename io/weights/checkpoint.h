// Resumable checkpoints (contracts.md "Weights"): CKPT.safetensors holds the model's parameters
// and buffers under torchvision names with a __metadata__ entry (format version, cxrtune version,
// arch, recipe, step, epoch, data position, RNG state — all strings); CKPT.optim.safetensors
// beside it holds the optimizer state ("<param>.exp_avg", ...). Both are written atomically.
// Loading refuses another format version or architecture with a clear message.
#pragma once
#include <map>
#include <string>

#include "io/weights/state_dict.h"

namespace cxr {

inline constexpr const char* kCheckpointFormat = "1";

struct Checkpoint {
  StateDict model;
  StateDict optimizer;
  std::map<std::string, std::string> metadata;  // "format", "arch", "step", "epoch", ...
};

// `path` is CKPT.safetensors; the optimizer file goes beside it (written first, so a model file
// never refers to a missing optimizer state).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// `expected_arch` empty: any. UsageError on a format or architecture mismatch.
Checkpoint load_checkpoint(const std::string& path, const std::string& expected_arch);

std::string optimizer_path(const std::string& checkpoint_path);

}  // namespace cxr
