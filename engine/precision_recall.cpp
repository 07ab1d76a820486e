#include "engine/precision_recall.h"

#include <algorithm>
#include <numeric>

#include "engine/stats_input.h"

namespace cxr {

PrCurve pr_curve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  check_scores("precision-recall curve", scores, positive);
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const auto n_pos = static_cast<double>(count_positives(positive));
  PrCurve c;
  if (n_pos == 0) c.reason = scores.empty() ? "no samples" : "no positives";
  c.precision.push_back(1);
  c.recall.push_back(0);
  c.thresholds.push_back(std::numeric_limits<double>::infinity());
  double tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    positive[order[i]] ? ++tp : ++fp;
    if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;
    c.precision.push_back(tp / (tp + fp));
    c.recall.push_back(n_pos > 0 ? tp / n_pos : std::numeric_limits<double>::quiet_NaN());
    c.thresholds.push_back(scores[order[i]]);
  }
  return c;
}

AveragePrecision average_precision(const std::vector<double>& scores,
                                   const std::vector<bool>& positive) {
  const PrCurve c = pr_curve(scores, positive);
  AveragePrecision ap;
  ap.reason = c.reason;
  if (!ap.defined()) return ap;
  ap.prevalence =
      static_cast<double>(count_positives(positive)) / static_cast<double>(scores.size());
  double sum = 0;
  for (size_t k = 1; k < c.recall.size(); ++k)
    sum += (c.recall[k] - c.recall[k - 1]) * c.precision[k];
  ap.value = sum;
  return ap;
}

}  // namespace cxr
