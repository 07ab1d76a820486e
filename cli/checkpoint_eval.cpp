#include "cli/checkpoint_eval.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/job_setup.h"
#include "core/errors.h"
#include "io/data_splits.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "recipes/recipe_parser.h"

namespace cxr::cli {
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

CheckpointEval evaluate_checkpoint(const CheckpointEvalOptions& o) {
  check_checkpoint_path(o.checkpoint);
  const Checkpoint c = load_checkpoint(o.checkpoint, "");
  if (!c.metadata.count("recipe")) throw UsageError(o.checkpoint + ": checkpoint has no recipe");
  Recipe r = parse_recipe_text(c.metadata.at("recipe"), o.checkpoint + " (recipe)");
  if (!o.backend.empty()) r.train.backend = o.backend;
  if (!o.precision.empty()) r.train.precision = o.precision;
  Model m = make_model(r, o.plugins);
  apply_state_dict(*m.network, c.model, {false, o.checkpoint});
  Dataset data = read_test_data(o.data);
  const auto classes = nlohmann::json::parse(c.metadata.at("classes")).get<std::vector<std::string>>();
  if (data.classes != classes)
    throw UsageError("eval: " + o.data + " has classes " + data.summary() + "; the checkpoint was trained on " +
                     nlohmann::json(classes).dump());
  Loader loader(data, loader_config(r, false));
  const auto loss = make_loss(r, data);
  TrainStep step(*m.network, m.registry, *loss);
  const int64_t b = r.train.batch_size, s = r.data.image_size;
  step.prepare({b, r.model.in_channels, s, s}, {b}, false);
  TrainConfig tc;
  tc.class_names = classes;
  tc.multi_label = data.multi_label;
  struct NoOptimizer : StepOptimizer {
    std::map<std::string, double> step(int64_t) override { return {}; }
  } none;
  Trainer trainer(*m.network, step, none, tc);
  CheckpointEval out;
  out.result = trainer.evaluate(loader);
  out.set = {classes, out.result.ids, data.multi_label, out.result.probs, out.result.targets};
  return out;
}

std::optional<ScoredSet> read_run_val_predictions(const std::string& checkpoint,
                                                  const std::vector<std::string>& classes) {
  // CKPT is RUN_DIR/checkpoints/X or, one level deeper, RUN_DIR/checkpoints/step-N-ID/model.
  fs::path file;
  std::error_code ec;
  for (fs::path dir = fs::path(checkpoint).parent_path(); file.empty() && !dir.empty() && dir != dir.parent_path();
       dir = dir.parent_path())
    if (dir.filename() == "checkpoints") file = dir.parent_path() / "val_predictions.json";
    else if (dir.parent_path().filename() != "checkpoints") break;
  if (file.empty() || !fs::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto j = nlohmann::json::parse(text.str());
    ScoredSet v;
    v.classes = j.at("classes").get<std::vector<std::string>>();
    v.probs = j.at("scores").get<std::vector<std::vector<double>>>();
    v.targets = j.at("targets").get<std::vector<std::vector<double>>>();
    if (j.contains("ids")) v.ids = j["ids"].get<std::vector<std::string>>();
    if (v.classes != classes)
      throw UsageError(file.string() + ": classes " + j["classes"].dump() + " differ from the checkpoint's " +
                       nlohmann::json(classes).dump());
    if (v.probs.size() != v.targets.size()) throw UsageError(file.string() + ": scores and targets differ in length");
    for (size_t i = 0; i < v.probs.size(); ++i)
      if (v.probs[i].size() != classes.size() || v.targets[i].size() != classes.size())
        throw UsageError(file.string() + ": sample " + std::to_string(i) + " does not have one value per class");
    // Multi-label targets may hold several 1s (or none); single-label ones exactly one.
    for (const auto& t : v.targets) {
      int ones = 0;
      for (double x : t) ones += x > 0.5;
      if (ones != 1) v.multi_label = true;
    }
    return v;
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(file.string() + ": not a val_predictions.json (" + e.what() + ")");
  }
}

}  // namespace cxr::cli
