// Classification metrics for validation and `cxrtune eval`: accuracy, AUROC (per class,
// one-vs-rest, and macro), ROC curves, sensitivity/specificity at 0.5 and at Youden's J, and the
// confusion matrix. AUROC is the Mann–Whitney statistic with average ranks for ties (what
// sklearn.metrics.roc_auc_score computes). The trainer, `eval` and the report all use these.
//
// The NaN policy, the same everywhere:
// - A class with no positive or no negative (after masking) has no AUROC: NaN here, null in
//   metrics.jsonl / metrics.json, "–" on the report page. The macro mean is over the classes
//   whose AUROC is defined (NaN when none is); such a class is left out, never counted as 0.5.
// - A masked target (below 0, io/dataset.h kIgnoredTarget) counts for nothing in its class.
// - A NaN score is refused (RuntimeFailure): it means the model's output was NaN, and ranking it
//   anywhere would invent a result. Undefined sensitivity or specificity (no positive / no
//   negative) is NaN.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

// AUROC of `scores` for binary `positive` flags.
double auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;  // from (0,0) to (1,1), thresholds descending
};
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive);

struct OperatingPoint {
  double threshold = 0.5;
  double sensitivity = 0, specificity = 0;  // NaN when there is no positive / no negative
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};
// Predicted positive when score >= threshold.
OperatingPoint operating_point(const std::vector<double>& scores, const std::vector<bool>& positive,
                               double threshold);
// The threshold maximising sensitivity + specificity − 1 (ties: the highest threshold).
OperatingPoint youden_point(const std::vector<double>& scores, const std::vector<bool>& positive);

struct ClassMetrics {
  std::string name;
  int64_t support = 0;  // positives
  double auroc = 0;
  OperatingPoint at_half, at_youden;
  RocCurve roc;
};

struct ClassificationMetrics {
  int64_t count = 0;
  double accuracy = 0;    // single-label: argmax; multi-label: per-label at 0.5, averaged
  double macro_auroc = 0; // mean over classes with a defined AUROC (NaN if none)
  std::vector<ClassMetrics> classes;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted], single-label only
};

// Single-label: `probs` row-major [N, K] softmax probabilities, `labels` class indices.
ClassificationMetrics single_label_metrics(const std::vector<double>& probs,
                                           const std::vector<int64_t>& labels,
                                           const std::vector<std::string>& class_names);
// Multi-label: `probs` and `targets` row-major [N, K] (sigmoid probabilities, 0/1 targets).
ClassificationMetrics multi_label_metrics(const std::vector<double>& probs,
                                          const std::vector<double>& targets,
                                          const std::vector<std::string>& label_names);

}  // namespace cxr
