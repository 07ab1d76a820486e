#include "reports/classification.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cxr::report {

Roc roc_curve(const Predictions& p, size_t cls) {
  std::vector<std::pair<double, bool>> v;
  for (size_t i = 0; i < p.scores.size(); ++i)
    if (cls < p.scores[i].size() && std::isfinite(p.scores[i][cls])) v.emplace_back(p.scores[i][cls], p.targets[i][cls] >= 0.5);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  Roc roc{{0}, {0}, {std::numeric_limits<double>::infinity()}, std::nan(""), 0, 0};
  for (const auto& s : v) (s.second ? roc.positives : roc.negatives) += 1;
  if (roc.positives == 0 || roc.negatives == 0) return roc;
  const double pos = static_cast<double>(roc.positives), neg = static_cast<double>(roc.negatives);
  double tp = 0, fp = 0, auc = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    v[i].second ? ++tp : ++fp;
    // Tied scores share one threshold: one diagonal step, not a staircase that depends on order.
    if (i + 1 < v.size() && v[i + 1].first == v[i].first) continue;
    auc += (fp / neg - roc.fpr.back()) * (tp / pos + roc.tpr.back()) / 2;
    roc.fpr.push_back(fp / neg);
    roc.tpr.push_back(tp / pos);
    roc.threshold.push_back(v[i].first);
  }
  roc.auroc = auc;
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
  for (size_t c = 0; c < p.classes.size(); ++c) {
    const Roc roc = roc_curve(p, c);
    ClassMetricsRow row;
    row.name = p.classes[c];
    row.support = roc.positives;
    row.auroc = roc.auroc;
    double tp = 0, tn = 0;
    for (size_t i = 0; i < p.scores.size(); ++i) {
      const bool positive = p.targets[i][c] >= 0.5, predicted = p.scores[i][c] >= 0.5;
      if (positive && predicted) ++tp;
      if (!positive && !predicted) ++tn;
    }
    row.sens_half = roc.positives ? tp / static_cast<double>(roc.positives) : std::nan("");
    row.spec_half = roc.negatives ? tn / static_cast<double>(roc.negatives) : std::nan("");
    row.threshold_j = row.sens_j = row.spec_j = std::nan("");
    double best = -1;
    for (size_t i = 1; i < roc.fpr.size(); ++i)
      if (roc.tpr[i] - roc.fpr[i] > best)
        best = roc.tpr[i] - roc.fpr[i], row.threshold_j = roc.threshold[i], row.sens_j = roc.tpr[i], row.spec_j = 1 - roc.fpr[i];
    out.push_back(row);
  }
  return out;
}

}  // namespace cxr::report
