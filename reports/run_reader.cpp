#include "reports/run_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/errors.h"

namespace cxr {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

double num(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::numeric_limits<double>::quiet_NaN();
  return j[key].get<double>();
}

std::map<std::string, double> num_map(const json& j, const char* key) {
  std::map<std::string, double> out;
  if (j.contains(key) && j[key].is_object())
    for (auto it = j[key].begin(); it != j[key].end(); ++it)
      out[it.key()] = it->is_null() ? std::numeric_limits<double>::quiet_NaN() : it->get<double>();
  return out;
}

}  // namespace

RunData read_run(const std::string& dir) {
  RunData r;
  r.dir = dir;
  r.name = fs::path(dir).filename().string();
  if (r.name.empty()) r.name = fs::path(dir).parent_path().filename().string();
  std::ifstream recipe(fs::path(dir) / "recipe.yaml");
  std::stringstream ss;
  ss << recipe.rdbuf();
  r.recipe = ss.str();
  const fs::path metrics = fs::path(dir) / "metrics.jsonl";
  std::ifstream in(metrics);
  if (!in) throw UsageError("report: " + metrics.string() + " not found (is " + dir + " a run directory?)");
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("kind"))
      throw UsageError(metrics.string() + ":" + std::to_string(no) + ": not a metrics record");
    try {
      if (j["kind"] == "step") {
        StepRow s;
        s.epoch = j.at("epoch").get<int64_t>();
        s.step = j.at("step").get<int64_t>();
        s.loss = num(j, "loss");
        s.images_per_s = num(j, "images_per_s");
        s.lr = num_map(j, "lr");
        s.grad = num_map(j, "grad_norm");
        if (r.stages.empty())
          for (const auto& [k, _] : s.lr) r.stages.push_back(k);
        r.steps.push_back(std::move(s));
      } else if (j["kind"] == "epoch") {
        EpochRow e;
        e.epoch = j.at("epoch").get<int64_t>();
        e.train_loss = num(j, "train_loss");
        e.has_val = j.contains("val_loss");
        e.val_loss = num(j, "val_loss");
        e.val_accuracy = num(j, "val_accuracy");
        e.val_auroc = num(j, "val_auroc");
        e.grad_mean = num_map(j, "grad_norm_mean");
        e.grad_last = num_map(j, "grad_norm_last");
        if (j.contains("val_confusion")) e.confusion = j["val_confusion"].get<std::vector<std::vector<int64_t>>>();
        if (j.contains("val_per_class") && j["val_per_class"].is_object())
          for (auto it = j["val_per_class"].begin(); it != j["val_per_class"].end(); ++it) {
            EpochRow::ClassRow c;
            c.name = it.key();
            c.support = it->value("support", int64_t{0});
            c.auroc = num(*it, "auroc");
            if (it->contains("at_0.5")) c.sens_half = num((*it)["at_0.5"], "sensitivity"), c.spec_half = num((*it)["at_0.5"], "specificity");
            if (it->contains("at_youden"))
              c.threshold_j = num((*it)["at_youden"], "threshold"), c.sens_j = num((*it)["at_youden"], "sensitivity"),
              c.spec_j = num((*it)["at_youden"], "specificity");
            e.per_class.push_back(c);
          }
        r.epochs.push_back(std::move(e));
      }
    } catch (const json::exception& e) {
      throw UsageError(metrics.string() + ":" + std::to_string(no) + ": " + e.what());
    }
  }
  // Stages in network order: the lr map is sorted by name, the contract's order is fixed.
  static const std::vector<std::string> order{"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};
  std::vector<std::string> sorted;
  for (const auto& s : order)
    if (std::find(r.stages.begin(), r.stages.end(), s) != r.stages.end()) sorted.push_back(s);
  for (const auto& s : r.stages)
    if (std::find(sorted.begin(), sorted.end(), s) == sorted.end()) sorted.push_back(s);
  r.stages = sorted;
  std::ifstream wc(fs::path(dir) / "weight_change.json");
  if (wc) {
    const json j = json::parse(wc, nullptr, false);
    if (!j.is_discarded())
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it->is_number()) r.weight_change[it.key()] = it->get<double>();
  }
  std::ifstream info(fs::path(dir) / "run_info.json");
  if (info) {
    const json j = json::parse(info, nullptr, false);
    // Only known keys: a run directory's files are printed into a page.
    for (const char* key : {"cxrtune_version", "backend", "threads", "arch", "weights", "classes", "train_counts", "val_counts"})
      if (!j.is_discarded() && j.contains(key))
        r.environment.emplace_back(key, j[key].is_string() ? j[key].get<std::string>() : j[key].dump());
  }
  std::ifstream preds(fs::path(dir) / "val_predictions.json");
  if (preds) {
    const json j = json::parse(preds, nullptr, false);
    if (!j.is_discarded() && j.contains("scores")) {
      r.classes = j.value("classes", std::vector<std::string>{});
      r.scores = j["scores"].get<std::vector<std::vector<double>>>();
      r.targets = j["targets"].get<std::vector<std::vector<double>>>();
    }
  }
  return r;
}

}  // namespace cxr
