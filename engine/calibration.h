// Calibration of predicted probabilities: Brier score, expected calibration error (ECE) and the
// reliability diagram's bins.
//   Brier = 1/N Σ (p_i − y_i)²                                   (Brier 1950)
//   ECE   = Σ_b (n_b / N) · |mean p in b − fraction positive in b|   (Naeini et al. 2015;
//           Guo et al. 2017, "On calibration of modern neural networks")
// Bins: 15 equal-width bins on [0, 1] (Guo et al.'s choice), edges k/15; bin b holds
// edge_b <= p < edge_{b+1}, the last bin also holds p = 1 — the bins of scikit-learn's
// calibration_curve(strategy="uniform"). Empty bins are listed with count 0 and NaN means.
// Binary: p is the probability of the positive class (multi-label: per label). Multi-class:
// calibration_top_label uses the confidence of the argmax class and whether it was right
// (Guo et al.'s definition). Probabilities outside [0, 1] or NaN are a UsageError.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace cxr {

struct ReliabilityBin {
  double lower = 0, upper = 0;  // bin edges
  int64_t count = 0;
  double mean_predicted = std::numeric_limits<double>::quiet_NaN();
  double observed_frequency = std::numeric_limits<double>::quiet_NaN();
};

struct CalibrationSummary {
  double brier = std::numeric_limits<double>::quiet_NaN();
  double ece = std::numeric_limits<double>::quiet_NaN();
  std::vector<ReliabilityBin> bins;
  std::string binning = "15 equal-width bins";
  std::string reason;  // "no samples" when undefined
};

constexpr int64_t kCalibrationBins = 15;

double brier_score(const std::vector<double>& probs, const std::vector<bool>& positive);

// `n_bins` equal-width bins (default 15; `binning` says how many).
CalibrationSummary calibration(const std::vector<double>& probs, const std::vector<bool>& positive,
                               int64_t n_bins = kCalibrationBins);

// Multi-class, `probs` row-major [N, K], `labels` in [0, K): bins the top-label confidence
// max_k p_ik against correctness (argmax == label); brier is the multi-class Brier score
// 1/N Σ_i Σ_k (p_ik − [k = y_i])².
CalibrationSummary calibration_top_label(const std::vector<double>& probs,
                                         const std::vector<int64_t>& labels, int64_t n_classes,
                                         int64_t n_bins = kCalibrationBins);

}  // namespace cxr
