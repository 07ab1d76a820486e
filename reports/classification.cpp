#include "reports/classification.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/metrics.h"

namespace cxr::report {
namespace {

// One class's scores and 0/1 truth, leaving out masked targets (below 0, the trainer's
// kIgnoredTarget): they count for nothing in that class's metrics, as in core/metrics.h.
struct ClassColumn {
  std::vector<double> scores;
  std::vector<bool> positive;
};

ClassColumn column(const Predictions& p, size_t cls) {
  ClassColumn c;
  for (size_t i = 0; i < p.scores.size(); ++i) {
    if (cls >= p.scores[i].size() || p.targets[i][cls] < 0) continue;
    c.scores.push_back(p.scores[i][cls]);
    c.positive.push_back(p.targets[i][cls] >= 0.5);
  }
  return c;
}

}  // namespace

Roc roc_curve(const Predictions& p, size_t cls) {
  const ClassColumn c = column(p, cls);
  Roc roc{{0}, {0}, {std::numeric_limits<double>::infinity()}, std::nan(""), 0, 0};
  roc.positives = std::count(c.positive.begin(), c.positive.end(), true);
  roc.negatives = static_cast<int64_t>(c.positive.size()) - roc.positives;
  // No curve without both kinds of sample: only the origin, and no AUROC.
  if (roc.positives == 0 || roc.negatives == 0) return roc;
  const RocCurve curve = cxr::roc_curve(c.scores, c.positive);
  roc.fpr = curve.fpr;
  roc.tpr = curve.tpr;
  roc.threshold = curve.thresholds;
  roc.auroc = cxr::auroc(c.scores, c.positive);
  return roc;
}

std::vector<std::vector<int64_t>> confusion_matrix(const Predictions& p) {
  if (!p.single_label || p.classes.empty()) return {};
  const size_t k = p.classes.size();
  std::vector<std::vector<int64_t>> m(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < p.scores.size(); ++i) {
    const auto truth = std::max_element(p.targets[i].begin(), p.targets[i].end()) - p.targets[i].begin();
    const auto pred = std::max_element(p.scores[i].begin(), p.scores[i].end()) - p.scores[i].begin();
    ++m[static_cast<size_t>(truth)][static_cast<size_t>(pred)];
  }
  return m;
}

std::vector<ClassMetricsRow> class_metrics(const Predictions& p) {
  std::vector<ClassMetricsRow> out;
  for (size_t cls = 0; cls < p.classes.size(); ++cls) {
    const ClassColumn c = column(p, cls);
    ClassMetricsRow row;
    row.name = p.classes[cls];
    row.support = std::count(c.positive.begin(), c.positive.end(), true);
    row.auroc = cxr::auroc(c.scores, c.positive);
    const OperatingPoint half = operating_point(c.scores, c.positive, 0.5);
    row.sens_half = half.sensitivity;
    row.spec_half = half.specificity;
    row.threshold_j = row.sens_j = row.spec_j = std::nan("");
    if (!std::isnan(row.auroc)) {
      const OperatingPoint j = youden_point(c.scores, c.positive);
      row.threshold_j = j.threshold, row.sens_j = j.sensitivity, row.spec_j = j.specificity;
    }
    out.push_back(row);
  }
  return out;
}

}  // namespace cxr::report
