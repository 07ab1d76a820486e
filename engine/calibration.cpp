#include "engine/calibration.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "engine/stats_input.h"

namespace cxr {

double brier_score(const std::vector<double>& probs, const std::vector<bool>& positive) {
  check_probabilities("Brier score", probs, positive);
  if (probs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double e = probs[i] - (positive[i] ? 1.0 : 0.0);
    s += e * e;
  }
  return s / static_cast<double>(probs.size());
}

CalibrationSummary calibration(const std::vector<double>& probs, const std::vector<bool>& positive,
                               int64_t n_bins) {
  check_probabilities("calibration", probs, positive);
  if (n_bins < 1)
    throw UsageError("calibration: need at least one bin, not " + std::to_string(n_bins));
  CalibrationSummary out;
  out.binning = std::to_string(n_bins) + " equal-width bins";
  // Edges as numpy.linspace(0, 1, n_bins + 1) computes them (k · (1/n), last edge exactly 1), so
  // a probability on an edge falls in the same bin as in scikit-learn.
  const double step = 1.0 / static_cast<double>(n_bins);
  std::vector<double> edges(static_cast<size_t>(n_bins) + 1);
  for (int64_t k = 0; k <= n_bins; ++k)
    edges[static_cast<size_t>(k)] = static_cast<double>(k) * step;
  edges.back() = 1.0;
  std::vector<double> sum_p(static_cast<size_t>(n_bins), 0.0),
      sum_y(static_cast<size_t>(n_bins), 0.0);
  std::vector<int64_t> count(static_cast<size_t>(n_bins), 0);
  for (size_t i = 0; i < probs.size(); ++i) {
    // Number of interior edges <= p (searchsorted(edges[1:-1], p, side="right")).
    const auto b = static_cast<size_t>(
        std::upper_bound(edges.begin() + 1, edges.end() - 1, probs[i]) - (edges.begin() + 1));
    sum_p[b] += probs[i];
    sum_y[b] += positive[i] ? 1.0 : 0.0;
    ++count[b];
  }
  double ece = 0;
  for (size_t b = 0; b < static_cast<size_t>(n_bins); ++b) {
    ReliabilityBin bin;
    bin.lower = edges[b];
    bin.upper = edges[b + 1];
    bin.count = count[b];
    if (count[b] > 0) {
      const auto n = static_cast<double>(count[b]);
      bin.mean_predicted = sum_p[b] / n;
      bin.observed_frequency = sum_y[b] / n;
      ece += n * std::fabs(bin.mean_predicted - bin.observed_frequency);
    }
    out.bins.push_back(bin);
  }
  if (probs.empty()) {
    out.reason = "no samples";
    return out;
  }
  out.ece = ece / static_cast<double>(probs.size());
  out.brier = brier_score(probs, positive);
  return out;
}

CalibrationSummary calibration_top_label(const std::vector<double>& probs,
                                         const std::vector<int64_t>& labels, int64_t n_classes,
                                         int64_t n_bins) {
  if (n_classes <= 0 || probs.size() != labels.size() * static_cast<size_t>(n_classes))
    throw UsageError("calibration: " + std::to_string(probs.size()) + " probabilities for " +
                     std::to_string(labels.size()) + " samples x " + std::to_string(n_classes) +
                     " classes");
  const auto k = static_cast<size_t>(n_classes);
  std::vector<double> confidence(labels.size());
  std::vector<bool> correct(labels.size());
  double brier = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= n_classes)
      throw UsageError("calibration: label " + std::to_string(labels[i]) + " of sample " +
                       std::to_string(i) + " is not in [0, " + std::to_string(n_classes) + ")");
    const auto row = probs.begin() + static_cast<std::ptrdiff_t>(i * k);
    for (size_t c = 0; c < k; ++c) {
      const double p = row[static_cast<std::ptrdiff_t>(c)];
      if (!(p >= 0 && p <= 1))
        throw UsageError("calibration: probability [" + std::to_string(i) + ", " +
                         std::to_string(c) + "] = " + std::to_string(p) + " is not in [0, 1]");
      const double e = p - (static_cast<int64_t>(c) == labels[i] ? 1.0 : 0.0);
      brier += e * e;
    }
    const auto top =
        static_cast<size_t>(std::max_element(row, row + static_cast<std::ptrdiff_t>(k)) - row);
    confidence[i] = row[static_cast<std::ptrdiff_t>(top)];
    correct[i] = static_cast<int64_t>(top) == labels[i];
  }
  CalibrationSummary out = calibration(confidence, correct, n_bins);
  out.brier = labels.empty() ? std::numeric_limits<double>::quiet_NaN()
                             : brier / static_cast<double>(labels.size());
  return out;
}

}  // namespace cxr
