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
//   eval/metrics.json    optional: count, loss, accuracy, auroc, per_class (as val_per_class,
//                        with auroc_ci95, average_precision, pr_curve{recall, precision,
//                        thresholds}), auroc_ci95, auroc_ci_method, brier, ece, ece_binning,
//                        calibration_of, reliability[{lower, upper, count, mean_predicted,
//                        observed_frequency}], operating_point{rule, chosen_on, per_class{class:
//                        {threshold, target, val_achieved, achieved, tp, fp, tn, fn, sensitivity,
//                        specificity, ppv, npv, f1: {value, ci95}}}} (eval_reader.cpp).
// Optional files that are present but malformed → UsageError naming the file.
#pragma once
#include <cstdint>
#include <limits>
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
  double auroc_lower = std::numeric_limits<double>::quiet_NaN();  // eval's DeLong 95 % CI
  double auroc_upper = std::numeric_limits<double>::quiet_NaN();
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

// A value with its 95 % interval (NaN where undefined).
struct ValueCi {
  double value = std::numeric_limits<double>::quiet_NaN();
  double lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN();
};

struct ReliabilityRow {
  double lower = 0, upper = 0, mean_predicted = 0, observed = 0;
  int64_t count = 0;
};

struct PrCurveRow {
  std::string name;
  double average_precision = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> recall, precision, thresholds;  // thresholds: NaN for the first (+inf) point
};

struct OperatingPointRow {
  std::string name, target;  // target as text: "0.95" or "max Youden's J"
  double threshold = 0, val_achieved = 0, achieved = 0;
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  ValueCi sensitivity, specificity, ppv, npv, f1;
};

struct EvalSummary {
  bool present = false;
  int64_t count = 0;
  double loss = 0, accuracy = 0, auroc = 0;
  ValueCi auroc_ci;  // value = auroc; NaN bounds when metrics.json has no interval
  std::string auroc_ci_method;
  std::vector<ClassMetricsRow> per_class;
  double brier = std::numeric_limits<double>::quiet_NaN(), ece = std::numeric_limits<double>::quiet_NaN();
  std::string ece_binning, calibration_of;
  std::vector<ReliabilityRow> reliability;
  std::vector<PrCurveRow> pr_curves;
  std::string operating_rule, operating_chosen_on;
  std::vector<OperatingPointRow> operating_points;
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
