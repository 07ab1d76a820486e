// `cxrtune eval --checkpoint CKPT --data DATA [--out metrics.json] [--backend ...]`: scores a
// checkpoint on a folder-per-class data set, or on the `split: test` rows of a CSV manifest.
// Writes metrics.json (the names of metrics.jsonl's epoch records) and predictions.csv beside it
// (RFC 4180, every field quoted: paths relative to the data root, the true class or, multi-label,
// the true labels joined by ';', the class probabilities; nothing identifying).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/job_setup.h"
#include "cli/metrics_json.h"
#include "engine/atomic_file.h"
#include "engine/errors.h"
#include "engine/trainer.h"
#include "io/csv.h"
#include "io/data_splits.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "recipes/recipe_parser.h"

namespace cxr::cli {
namespace {

struct EvalOptions {
  std::string checkpoint, data, out = "metrics.json", backend, precision;
  std::vector<std::string> plugins;
};

// A folder or a missing file would reach the checkpoint reader as a stream error without a name.
void check_checkpoint_path(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    throw UsageError("--checkpoint " + path + ": no such file");
  if (std::filesystem::is_directory(status))
    throw UsageError("--checkpoint " + path + " is a folder; give a .safetensors file, e.g. " +
                     (std::filesystem::path(path) / "best.safetensors").string() + " in a run's checkpoints folder");
  if (!std::filesystem::is_regular_file(status)) throw UsageError("--checkpoint " + path + " is not a regular file");
}

void run_eval(const EvalOptions& o) {
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
  const EvalResult res = trainer.evaluate(loader);
  const ClassificationMetrics& mt = res.metrics;
  nlohmann::json j = {{"checkpoint", std::filesystem::path(o.checkpoint).filename().string()},
                      {"count", mt.count},
                      {"loss", number_json(res.loss)},
                      {"accuracy", number_json(mt.accuracy)},
                      {"auroc", number_json(mt.macro_auroc)},
                      {"per_class", per_class_json(mt)},
                      {"confusion", mt.confusion},
                      {"classes", classes}};
  const auto out_dir = std::filesystem::path(o.out).parent_path();
  std::error_code ec;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir, ec);
  if (ec) throw UsageError("--out " + o.out + ": cannot create " + out_dir.string() + ": " + ec.message());
  write_file_atomic(o.out, j.dump(2) + "\n");
  std::vector<std::string> header{"path", data.multi_label ? "labels" : "label"};
  for (const auto& name : classes) header.push_back("p_" + name);
  std::string csv = csv_row(header);
  for (size_t i = 0; i < res.probs.size(); ++i) {
    std::vector<std::string> row{i < res.ids.size() ? res.ids[i] : "", ""};
    for (size_t k = 0; k < res.targets[i].size() && k < classes.size(); ++k)
      if (res.targets[i][k] > 0.5) {
        if (data.multi_label) row[1] += (row[1].empty() ? "" : ";") + classes[k];
        else row[1] = classes[k];
      }
    for (double p : res.probs[i]) row.push_back(std::to_string(p));
    csv += csv_row(row);
  }
  const std::string preds = (std::filesystem::path(o.out).parent_path() / "predictions.csv").string();
  write_file_atomic(preds, csv);
  std::printf("%lld images: accuracy %.4f, AUROC %.4f, loss %.4f\nwrote %s and %s\n", static_cast<long long>(mt.count),
              mt.accuracy, mt.macro_auroc, res.loss, o.out.c_str(), preds.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "score a checkpoint on a data set");
  cmd->add_option("--checkpoint", o->checkpoint, "checkpoint .safetensors (a run's checkpoints/best.safetensors)")->required();
  cmd->add_option("--data", o->data, "folder-per-class data set, or a CSV manifest (its split: test rows)")->required();
  cmd->add_option("--out", o->out, "metrics JSON")->capture_default_str();
  cmd->add_option("--backend", o->backend, "cpu | cuda | auto");
  cmd->add_option("--precision", o->precision, "f32 | bf16 | f16 (default: the run's train.precision)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--plugin", o->plugins, "layer plugins")->take_all();
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace cxr::cli
