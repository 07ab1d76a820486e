#include "reports/run_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "core/stages.h"
#include "reports/eval_reader.h"
#include "reports/metrics_line.h"

namespace cxr::report {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The trainer writes non-finite numbers as null; a missing key reads as NaN too.
double num(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return kNaN;
  return it->get<double>();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Optional JSON file: absent → null; present but not JSON → UsageError naming it.
json read_optional_json(const fs::path& p) {
  if (!fs::exists(p)) return nullptr;
  json j = json::parse(slurp(p), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw UsageError(p.string() + ": not a JSON object");
  return j;
}

// The engine's stage order (core/stages.h); stages outside it (plugins' networks) follow, in
// first-seen order.
void order_stages(std::vector<std::string>& stages) {
  std::stable_sort(stages.begin(), stages.end(),
                   [](const std::string& a, const std::string& b) { return stage_rank(a) < stage_rank(b); });
}

std::vector<ClassMetricsRow> read_per_class(const json& j) {
  std::vector<ClassMetricsRow> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_object()) continue;
    ClassMetricsRow c;
    c.name = it.key();
    c.support = it->value("support", int64_t{0});
    c.auroc = num(*it, "auroc");
    const json half = it->value("at_0.5", json::object()), youden = it->value("at_youden", json::object());
    c.sens_half = num(half, "sensitivity"), c.spec_half = num(half, "specificity");
    c.threshold_j = num(youden, "threshold"), c.sens_j = num(youden, "sensitivity"), c.spec_j = num(youden, "specificity");
    out.push_back(std::move(c));
  }
  return out;
}

class MetricsParser {
 public:
  MetricsParser(RunData& run, std::string where) : run_(run), where_(std::move(where)) {}

  // One line; `no` is its 1-based number for error messages.
  void line(const std::string& text, int64_t no) {
    const std::string at = where_ + ":" + std::to_string(no) + ": ";
    if (!parse_flat(text, rec_) || rec_.kind.empty())
      throw UsageError(at + "not a metrics record (expected a JSON object with a \"kind\")");
    if (rec_.kind == "step") step(at);
    else if (rec_.kind == "epoch") epoch(at, text);
    // Other kinds (future records) are tolerated, as extra keys are.
  }

 private:
  double required(const char* key, const std::string& at) const {
    const double* v = rec_.scalar(key);
    if (!v || !std::isfinite(*v)) throw UsageError(at + rec_.kind + " record without a numeric \"" + key + "\"");
    return *v;
  }
  double optional(const char* key) const {
    const double* v = rec_.scalar(key);
    return v ? *v : kNaN;
  }

  int stage_of(const std::string& name) {
    const int k = run_.stage_index(name);
    if (k >= 0) return k;
    run_.stages.push_back(name);
    return static_cast<int>(run_.stages.size()) - 1;
  }

  // Fills `out` (indexed by stage) from the record's object `key` of stage → number.
  void stage_values(const char* key, std::vector<double>& out, double* total) {
    out.assign(run_.stages.size(), kNaN);
    const FlatRecord::Numbers* m = rec_.map(key);
    if (!m) return;
    for (const auto& [name, v] : *m) {
      if (total && name == "total") {
        *total = v;
        continue;
      }
      const auto k = static_cast<size_t>(stage_of(name));
      if (k >= out.size()) out.resize(run_.stages.size(), kNaN);
      out[k] = v;
    }
  }

  void step(const std::string& at) {
    if (run_.stages.empty()) {  // fix the display order once, from the first record
      for (const char* key : {"lr", "grad_norm"})
        if (const FlatRecord::Numbers* m = rec_.map(key))
          for (const auto& [name, v] : *m)
            if (name != "total" && run_.stage_index(name) < 0) run_.stages.push_back(name);
      order_stages(run_.stages);
    }
    StepRow s;
    s.epoch = static_cast<int64_t>(required("epoch", at));
    s.step = static_cast<int64_t>(required("step", at));
    s.loss = optional("loss");
    s.images_per_s = optional("images_per_s");
    s.data_wait_s = optional("data_wait_s");
    s.grad_total = kNaN;
    stage_values("lr", s.lr, nullptr);
    stage_values("grad_norm", s.grad, &s.grad_total);
    run_.steps.push_back(std::move(s));
  }

  void epoch(const std::string& at, const std::string& text) {
    EpochRow e;
    e.epoch = static_cast<int64_t>(required("epoch", at));
    e.train_loss = optional("train_loss");
    e.has_val = rec_.scalar("val_loss") != nullptr;
    e.val_loss = optional("val_loss");
    e.val_accuracy = optional("val_accuracy");
    e.val_auroc = optional("val_auroc");
    stage_values("grad_norm_mean", e.grad_mean, nullptr);
    stage_values("grad_norm_last", e.grad_last, nullptr);
    if (rec_.nested) {  // confusion matrix and per-class metrics: rare lines, read with the DOM
      try {
        const json j = json::parse(text);
        if (j.contains("val_confusion") && j["val_confusion"].is_array())
          e.confusion = j["val_confusion"].get<std::vector<std::vector<int64_t>>>();
        if (j.contains("val_per_class")) e.per_class = read_per_class(j["val_per_class"]);
      } catch (const json::exception& ex) {
        throw UsageError(at + "malformed epoch record: " + ex.what());
      }
    }
    run_.epochs.push_back(std::move(e));
  }

  RunData& run_;
  std::string where_;
  FlatRecord rec_;
};

void read_metrics(RunData& run, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("report: " + path.string() + " not found (is " + run.dir + " a run directory?)");
  MetricsParser parser(run, path.string());
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) parser.line(line, no);
  }
  // Rows read before a stage first appeared get NaN for it.
  for (StepRow& s : run.steps) s.lr.resize(run.stages.size(), kNaN), s.grad.resize(run.stages.size(), kNaN);
  for (EpochRow& e : run.epochs)
    e.grad_mean.resize(run.stages.size(), kNaN), e.grad_last.resize(run.stages.size(), kNaN);
}

void read_predictions(RunData& run, const fs::path& path) {
  const json j = read_optional_json(path);
  if (j.is_null()) return;
  try {
    Predictions& p = run.predictions;
    p.classes = j.at("classes").get<std::vector<std::string>>();
    p.scores = j.at("scores").get<std::vector<std::vector<double>>>();
    if (j.contains("labels")) {
      for (int64_t label : j["labels"].get<std::vector<int64_t>>()) {
        if (label < 0 || label >= static_cast<int64_t>(p.classes.size()))
          throw UsageError(path.string() + ": label " + std::to_string(label) + " outside the classes");
        std::vector<double> t(p.classes.size(), 0.0);
        t[static_cast<size_t>(label)] = 1;
        p.targets.push_back(std::move(t));
      }
    } else {
      p.targets = j.at("targets").get<std::vector<std::vector<double>>>();
      for (const auto& t : p.targets) {
        double sum = 0;
        for (double v : t) sum += v;
        if (sum != 1) p.single_label = false;
      }
    }
    if (p.targets.size() != p.scores.size()) throw UsageError(path.string() + ": scores and labels differ in length");
    for (size_t i = 0; i < p.scores.size(); ++i)
      if (p.scores[i].size() != p.classes.size() || p.targets[i].size() != p.classes.size())
        throw UsageError(path.string() + ": sample " + std::to_string(i) + " does not have one score per class");
  } catch (const json::exception& e) {
    throw UsageError(path.string() + ": " + e.what());
  }
}

void read_run_info(RunData& run, const fs::path& path) {
  const json j = read_optional_json(path);
  if (j.is_null()) return;
  // Only these keys are printed, and only as scalars: the page never shows arbitrary content.
  for (const char* key : {"cxrtune_version", "backend", "isa_or_gpu", "threads", "arch", "weights"}) {
    const auto it = j.find(key);
    if (it == j.end() || !(it->is_string() || it->is_number() || it->is_boolean())) continue;
    run.environment.emplace_back(key, it->is_string() ? it->get<std::string>() : it->dump());
  }
  if (j.contains("classes") && j["classes"].is_array())
    for (const json& c : j["classes"])
      if (c.is_string()) run.count_classes.push_back(c.get<std::string>());
  for (const char* split : {"train", "val", "test"}) {
    const std::string key = std::string(split) + "_counts";
    if (j.contains(key) && j[key].is_array()) {
      std::vector<int64_t> n;
      for (const json& v : j[key]) n.push_back(v.is_number_integer() ? v.get<int64_t>() : 0);
      run.counts.emplace_back(split, n);
    } else if (j.contains("dataset") && j["dataset"].is_object() && j["dataset"].contains(split) &&
               j["dataset"][split].is_object()) {
      const json& m = j["dataset"][split];
      if (run.count_classes.empty())
        for (auto it = m.begin(); it != m.end(); ++it) run.count_classes.push_back(it.key());
      std::vector<int64_t> n;
      for (const auto& c : run.count_classes) n.push_back(m.contains(c) && m[c].is_number_integer() ? m[c].get<int64_t>() : 0);
      run.counts.emplace_back(split, n);
    }
  }
}

void read_eval(RunData& run, const fs::path& path) {
  const json j = read_optional_json(path);
  if (j.is_null()) return;
  run.eval.present = true;
  run.eval.count = j.value("count", int64_t{0});
  run.eval.loss = num(j, "loss");
  run.eval.accuracy = num(j, "accuracy");
  run.eval.auroc = num(j, "auroc");
  if (j.contains("per_class")) run.eval.per_class = read_per_class(j["per_class"]);
  read_eval_statistics(j, run.eval);
}

}  // namespace

int RunData::stage_index(const std::string& stage) const {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i] == stage) return static_cast<int>(i);
  return -1;
}

RunData read_run(const std::string& dir) {
  RunData r;
  r.dir = dir;
  const fs::path root(dir);
  r.name = root.filename().string();
  if (r.name.empty()) r.name = root.parent_path().filename().string();
  if (!fs::is_directory(root)) throw UsageError("report: " + dir + " is not a directory");
  if (fs::exists(root / "recipe.yaml")) r.recipe = slurp(root / "recipe.yaml");
  read_metrics(r, root / "metrics.jsonl");
  const json wc = read_optional_json(root / "weight_change.json");
  if (!wc.is_null())
    for (auto it = wc.begin(); it != wc.end(); ++it) {
      r.weight_change[it.key()] = it->is_number() ? it->get<double>() : kNaN;
      if (r.stage_index(it.key()) < 0) r.stages.push_back(it.key());
    }
  // Row vectors are indexed by stage: reorder only while there are no rows; later stages append.
  if (r.steps.empty() && r.epochs.empty()) order_stages(r.stages);
  for (StepRow& s : r.steps) s.lr.resize(r.stages.size(), kNaN), s.grad.resize(r.stages.size(), kNaN);
  for (EpochRow& e : r.epochs) e.grad_mean.resize(r.stages.size(), kNaN), e.grad_last.resize(r.stages.size(), kNaN);
  read_predictions(r, root / "val_predictions.json");
  read_run_info(r, root / "run_info.json");
  read_eval(r, root / "eval" / "metrics.json");
  return r;
}

}  // namespace cxr::report
