// Classification figures from a run's last validation predictions (val_predictions.json):
// one-vs-rest ROC curves with AUROC, the confusion matrix of the arg-max prediction, and
// per-class sensitivity/specificity at 0.5 and at Youden's J. The numbers are core/metrics.h's
// (the trainer's own), with its policy: a masked target (below 0) counts for nothing in its
// class, and a class with no positive or no negative has no AUROC (NaN, shown "–"). Used when the
// epoch record does not carry these numbers, and always for the curves.
#pragma once
#include <cstdint>
#include <vector>

#include "reports/run_reader.h"

namespace cxr::report {

struct Roc {
  std::vector<double> fpr, tpr, threshold;  // from (0,0) to (1,1); threshold[0] = +inf
  double auroc;                              // NaN when a class has no positives or negatives
  int64_t positives = 0, negatives = 0;      // unmasked samples only
};

// Without both positives and negatives the curve is the origin alone.
Roc roc_curve(const Predictions& p, size_t cls);

// rows: truth, columns: arg-max prediction. Empty for multi-label predictions.
std::vector<std::vector<int64_t>> confusion_matrix(const Predictions& p);

// Per-class metrics computed from the predictions (support = positives).
std::vector<ClassMetricsRow> class_metrics(const Predictions& p);

}  // namespace cxr::report
