// A run directory read for the report. Files read (all under RUN_DIR; only the keys named here,
// so nothing else in a file can reach a page):
//   recipe.yaml          resolved recipe, kept as text (shown escaped)
//   metrics.jsonl        required. Step records: epoch, step, loss, lr{stage}, grad_norm{stage,
//                        total}, images_per_s, data_wait_s. Epoch records: epoch, train_loss,
//                        val_loss, val_accuracy, val_auroc, grad_norm_mean{stage},
//                        grad_norm_last{stage}, val_confusion [[int]] (rows truth, columns
//                        prediction), val_per_class{class: {auroc, support, at_0.5{sensitivity,
//                        specificity}, at_youden{threshold, sensitivity, specificity}}}.
//                        Extra keys are ignored; null means non-finite. A line that is not a
//                        JSON object with a known "kind" and the required keys → UsageError
//                        "FILE:LINE: …".
//   weight_change.json   {stage: ‖W_final − W_init‖ / ‖W_init‖}
//   val_predictions.json {"classes": [name…], "scores": [[p per class]…], and either "labels":
//                        [class index…] (single-label) or "targets": [[0/1 per class]…]};
//                        other keys (e.g. "ids", "epoch") are never read.
//   run_info.json        optional: cxrtune_version, backend, isa_or_gpu, threads, arch, weights
//                        (strings or numbers), classes [name…], and per split counts either as
//                        "<split>_counts": [n per class] or "dataset": {split: {class: n}}.
//   eval/metrics.json    optional: count, loss, accuracy, auroc, per_class (as val_per_class).
// Optional files that are present but malformed → UsageError naming the file.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cxr::report {

// Per-stage values are vectors indexed like RunData::stages (NaN where absent or non-finite).
struct StepRow {
  int64_t epoch = 0, step = 0;
  double loss = 0, images_per_s = 0, data_wait_s = 0, grad_total = 0;
  std::vector<double> lr, grad;
};

struct ClassMetricsRow {
  std::string name;
  int64_t support = 0;
  double auroc = 0, sens_half = 0, spec_half = 0, threshold_j = 0, sens_j = 0, spec_j = 0;
};

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0, val_loss = 0, val_accuracy = 0, val_auroc = 0;
  bool has_val = false;
  std::vector<double> grad_mean, grad_last;
  std::vector<std::vector<int64_t>> confusion;
  std::vector<ClassMetricsRow> per_class;
};

struct Predictions {
  std::vector<std::string> classes;
  std::vector<std::vector<double>> scores, targets;  // targets: 0/1 per class
  bool single_label = true;
};

struct EvalSummary {
  bool present = false;
  int64_t count = 0;
  double loss = 0, accuracy = 0, auroc = 0;
  std::vector<ClassMetricsRow> per_class;
};

struct RunData {
  std::string dir, name, recipe;
  std::vector<std::string> stages;  // torchvision order (conv1 … fc), then any others
  std::vector<StepRow> steps;
  std::vector<EpochRow> epochs;
  std::map<std::string, double> weight_change;
  Predictions predictions;
  EvalSummary eval;
  std::vector<std::pair<std::string, std::string>> environment;  // known run_info keys, as text
  std::vector<std::string> count_classes;                        // columns of `counts`
  std::vector<std::pair<std::string, std::vector<int64_t>>> counts;  // split → per class

  int stage_index(const std::string& stage) const;  // -1 if absent
};

RunData read_run(const std::string& dir);

}  // namespace cxr::report
