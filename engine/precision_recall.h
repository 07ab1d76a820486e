// Precision–recall curve and average precision, as scikit-learn's precision_recall_curve and
// average_precision_score define them (binary; higher score = more likely positive):
//   one point per distinct score t (predicted positive when score >= t; tied scores move
//   together), precision P = TP/(TP+FP), recall R = TP/positives, and
//   AP = Σ_n (R_n − R_{n−1}) · P_n   over thresholds in descending order, R_0 = 0.
// Step-wise, with no interpolation (neither the 11-point nor the trapezoidal area): the
// trapezoid over-states AP on PR curves (Davis & Goadrich 2006).
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace cxr {

// Points in descending threshold order = ascending recall. The first point is scikit-learn's
// appended one (recall 0, precision 1, threshold +inf); the rest are scikit-learn's arrays in
// reverse. Without positives recall is NaN and `reason` says so.
struct PrCurve {
  std::vector<double> precision, recall, thresholds;
  std::string reason;
};
PrCurve pr_curve(const std::vector<double>& scores, const std::vector<bool>& positive);

struct AveragePrecision {
  double value = std::numeric_limits<double>::quiet_NaN();
  double prevalence = std::numeric_limits<double>::quiet_NaN();  // AP of a random ranking
  std::string method = "step-wise (scikit-learn average_precision_score), no interpolation";
  std::string reason;  // "no positives" / "no samples" when undefined
  bool defined() const { return reason.empty(); }
};
// Throws UsageError on length mismatch or NaN scores.
AveragePrecision average_precision(const std::vector<double>& scores,
                                   const std::vector<bool>& positive);

}  // namespace cxr
