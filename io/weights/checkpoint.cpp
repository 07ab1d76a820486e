#include "io/weights/checkpoint.h"

#include <filesystem>

#include "engine/errors.h"
#include "io/weights/safetensors.h"

namespace cxr {

std::string optimizer_path(const std::string& checkpoint_path) {
  const std::filesystem::path p(checkpoint_path);
  const std::string stem = p.extension() == ".safetensors" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".optim.safetensors")).string();
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  StateDict model = c.model, optim = c.optimizer;
  model.metadata = c.metadata;
  model.metadata["format"] = kCheckpointFormat;
  optim.metadata["format"] = kCheckpointFormat;
  write_safetensors(optimizer_path(path), optim);
  write_safetensors(path, model);
}

Checkpoint load_checkpoint(const std::string& path, const std::string& expected_arch) {
  Checkpoint c;
  c.model = read_safetensors(path);
  c.metadata = c.model.metadata;
  const auto format = c.metadata.find("format");
  if (format == c.metadata.end())
    throw UsageError(path + ": not a cxrtune checkpoint (no format in __metadata__)");
  if (format->second != kCheckpointFormat)
    throw UsageError(path + ": checkpoint format " + format->second + ", this cxrtune reads format " +
                     kCheckpointFormat);
  const auto arch = c.metadata.find("arch");
  if (!expected_arch.empty() && (arch == c.metadata.end() || arch->second != expected_arch))
    throw UsageError(path + ": checkpoint of " + (arch == c.metadata.end() ? "an unknown architecture" : arch->second) +
                     ", the recipe builds " + expected_arch);
  const std::string opt = optimizer_path(path);
  if (std::filesystem::exists(opt)) c.optimizer = read_safetensors(opt);
  return c;
}

}  // namespace cxr
