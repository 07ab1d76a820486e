#include "job/checkpoint_eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "job/checkpoint_model.h"
#include "job/model_setup.h"
#include "core/errors.h"
#include "io/data_splits.h"
#include "io/dataset_layouts.h"
#include "recipes/data_request.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

bool official_layout(const std::string& format) { return format != "folder" && format != "manifest"; }

// The recipe's layout; empty when it cannot be told (data.train moved since training).
std::string recipe_format(const Recipe& r) {
  if (!r.data.format.empty()) return r.data.format;
  try {
    return detect_layout(r.data.train);
  } catch (const UsageError&) {
    return "";
  }
}

struct EvalData {
  Dataset data;
  std::string manifest;
};

// The data `eval` scores (CheckpointEvalOptions::data).
EvalData eval_data(const Recipe& r, const std::string& data) {
  if (data.empty()) {
    ResolvedData all = resolve_dataset(layout_request(r));
    if (!all.splits.test)
      throw UsageError("eval: the checkpoint's recipe has no test split (" + r.data.train +
                       "); give --data (a folder, a CSV manifest or a layout's label file)");
    const bool manifest = is_manifest_path(r.data.train) && detect_layout(r.data.train) == "manifest";
    return {std::move(*all.splits.test), manifest && !r.data.test ? r.data.train : ""};
  }
  std::error_code ec;
  if (fs::is_directory(data, ec) || !fs::exists(data, ec)) return {read_test_data(data), ""};
  const std::string format = detect_layout(data);
  if (!official_layout(format)) return {read_test_data(data), is_manifest_path(data) ? data : ""};
  LayoutRequest q = layout_request(r);
  const bool same_layout = recipe_format(r) == format;
  q.format = format;
  q.train = data;
  q.val.reset();
  q.test.reset();
  if (!same_layout) q.images.reset();
  return {resolve_test_data(q), ""};
}

}  // namespace

bool recipe_has_test_split(const Recipe& r) {
  if (r.data.test) return true;
  const std::string format = recipe_format(r);
  if (format.empty() || !official_layout(format)) return false;
  return resolve_dataset(layout_request(r)).splits.test.has_value();
}

CheckpointEval evaluate_checkpoint(const CheckpointEvalOptions& o) {
  CheckpointModel cm = load_checkpoint_model({o.checkpoint, o.backend, o.precision, o.plugins});
  const Recipe& r = cm.recipe;
  EvalData source = eval_data(r, o.data);
  const Dataset& data = source.data;
  if (data.classes != cm.classes)
    throw UsageError("eval: " + (o.data.empty() ? "the recipe's test split" : o.data) + " has classes " + data.summary() + "; the checkpoint was trained on " +
                     nlohmann::json(cm.classes).dump());
  LoaderConfig preprocessing = cm.preprocessing;
  const bool sharded = o.world && o.world->size() > 1;
  if (sharded) preprocessing.rank = o.world->rank(), preprocessing.ranks = o.world->size();
  Loader loader(data, preprocessing);
  const auto loss = make_loss(r, data);
  TrainStep step(*cm.model.network, *cm.model.registry, *loss);
  const int64_t b = r.train.batch_size, s = r.data.image_size;
  step.prepare({b, r.model.in_channels, s, s}, data.multi_label ? Shape{b, r.model.num_classes} : Shape{b}, false);
  TrainConfig tc;
  tc.class_names = cm.classes;
  tc.multi_label = data.multi_label;
  tc.temperature = cm.temperature.value_or(1.0);
  if (sharded) tc.comm = o.world;  // Trainer::evaluate gathers the ranks' slices back in order
  struct NoOptimizer : StepOptimizer {
    std::map<std::string, double> step(int64_t) override { return {}; }
  } none;
  Trainer trainer(*cm.model.network, step, none, tc);
  CheckpointEval out;
  out.result = trainer.evaluate(loader);
  out.set = {cm.classes, out.result.ids, data.multi_label, out.result.probs, out.result.targets};
  out.temperature = cm.temperature;
  out.eval = r.eval;
  out.data = std::move(source.data);
  out.manifest = std::move(source.manifest);
  return out;
}

void apply_temperature_to_scores(ScoredSet& set, double t) {
  if (!(t > 0)) throw std::logic_error("apply_temperature_to_scores: temperature " + std::to_string(t));
  for (auto& row : set.probs) {
    if (set.multi_label) {
      for (double& p : row) {
        const double q = std::clamp(p, 1e-300, 1 - 1e-16);
        p = 1.0 / (1.0 + std::exp(-(std::log(q) - std::log1p(-q)) / t));
      }
      continue;
    }
    double mx = -std::numeric_limits<double>::infinity(), sum = 0;
    for (double& p : row) {
      p = std::log(std::max(p, 1e-300)) / t;
      mx = std::max(mx, p);
    }
    for (double& p : row) sum += (p = std::exp(p - mx));
    for (double& p : row) p /= sum;
  }
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

}  // namespace cxr
