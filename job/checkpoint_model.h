// The one setup that eval, compare, predict and train's final test evaluation share: from a
// checkpoint file or a run directory, the network with the checkpoint's weights, the recipe it
// was trained with, that recipe's eval-mode preprocessing, the class names and the checkpoint's
// metadata (temperature and thresholds when present). Nothing is read but the checkpoint, so a
// checkpoint copied alone to another machine works.
// Failure modes (UsageError naming the file): a missing file, a folder without
// checkpoints/best.safetensors, not a cxrtune checkpoint, no recipe or classes in its metadata,
// a malformed field (checkpoint_metadata.h), an unknown backend or precision.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/loader.h"
#include "job/model_setup.h"
#include "recipes/recipe.h"

namespace cxr {

struct CheckpointModelOptions {
  std::string checkpoint;  // CKPT.safetensors, or a run directory (its checkpoints/best.safetensors)
  std::string backend;     // empty: the recipe's train.backend
  std::string precision;   // empty: the recipe's train.precision
  std::vector<std::string> plugins;
};

struct CheckpointModel {
  std::string checkpoint;                        // the file read
  std::map<std::string, std::string> metadata;  // the checkpoint's __metadata__ as stored
  Recipe recipe;                                 // with the backend/precision overrides applied
  std::vector<std::string> classes;
  bool multi_label = false;          // loss.name bce: one sigmoid per label
  std::optional<double> temperature;  // metadata "temperature" (eval --calibrate)
  std::vector<double> thresholds;     // metadata "thresholds", one per class; empty when absent
  LoaderConfig preprocessing;         // the recipe's eval-mode loader (no augmentation, no shuffle)
  JobModel model;                     // weights applied, not yet prepared for a batch shape
};

// A run directory's checkpoints/best.safetensors, or `path` itself when it is not a folder.
std::string checkpoint_of(const std::string& path);

CheckpointModel load_checkpoint_model(const CheckpointModelOptions& options);

}  // namespace cxr
