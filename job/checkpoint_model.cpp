#include "job/checkpoint_model.h"

#include <filesystem>

#include "core/errors.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "io/weights/checkpoint_fields.h"
#include "recipes/recipe_parser.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

// A folder or a missing file would reach the checkpoint reader as a stream error without a name.
void check_checkpoint_path(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw UsageError("--checkpoint " + path + ": no such file");
  if (fs::is_directory(status))
    throw UsageError("--checkpoint " + path + " is a folder; give a .safetensors file, e.g. " +
                     (fs::path(path) / "best.safetensors").string() + " in a run's checkpoints folder");
  if (!fs::is_regular_file(status)) throw UsageError("--checkpoint " + path + " is not a regular file");
}

}  // namespace

std::string checkpoint_of(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  const fs::path best = fs::path(path) / "checkpoints" / "best.safetensors";
  if (!fs::exists(best, ec))
    throw UsageError(path + " is a folder without checkpoints/best.safetensors; give a run directory or a checkpoint");
  return best.string();
}

CheckpointModel load_checkpoint_model(const CheckpointModelOptions& o) {
  const std::string path = checkpoint_of(o.checkpoint);
  check_checkpoint_path(path);
  const Checkpoint c = load_checkpoint(path, "");
  CheckpointModel out;
  out.checkpoint = path;
  out.metadata = c.metadata;
  const CheckpointFields fields(path, c.metadata);
  out.recipe = parse_recipe_text(fields.text("recipe"), path + " (recipe)");
  if (!o.backend.empty()) out.recipe.train.backend = o.backend;
  if (!o.precision.empty()) out.recipe.train.precision = o.precision;
  out.classes = fields.strings("classes");
  out.multi_label = out.recipe.loss.name == "bce";
  if (fields.has("temperature")) {
    out.temperature = fields.real("temperature");
    if (!(*out.temperature > 0)) throw UsageError(path + ": checkpoint field 'temperature' must be > 0");
  }
  if (fields.has("thresholds")) {
    out.thresholds = fields.reals("thresholds");
    if (out.thresholds.size() != out.classes.size())
      throw UsageError(path + ": checkpoint field 'thresholds' has " + std::to_string(out.thresholds.size()) +
                       " values for " + std::to_string(out.classes.size()) + " classes");
  }
  out.preprocessing = loader_config(out.recipe, false);
  out.model = make_model(out.recipe, o.plugins);
  apply_state_dict(*out.model.network, c.model, {false, path});
  return out;
}

}  // namespace cxr
