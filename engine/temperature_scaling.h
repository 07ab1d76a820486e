// Temperature scaling (Guo et al. 2017, "On calibration of modern neural networks", §4.2): one
// scalar T > 0 divides every logit, fitted on validation by minimising the negative
// log-likelihood, then applied to test. It changes no ranking (z/T is monotone in z for
// T > 0), so AUROC, AP and accuracy stay the same; only the probabilities move.
//   sigmoid (binary, and multi-label with one T shared by all labels, flattened):
//     NLL(T) = 1/N Σ softplus(z_i/T) − y_i z_i/T
//   softmax (multi-class): NLL(T) = 1/N Σ logsumexp_k(z_ik/T) − z_{i,y_i}/T
// Fit: golden-section search on log T over T ∈ [0.01, 100] to |Δ log T| < 1e-10. NLL is convex
// in 1/T (log-sum-exp of functions linear in 1/T, minus a linear term), hence unimodal in
// log T, which is what golden-section needs; a minimum on the bracket's edge (e.g. separable
// validation data, where NLL → 0 as T → 0) is flagged, not extrapolated.
// Logits must be finite; labels in range. Errors are UsageErrors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

struct TemperatureFit {
  double temperature = 1;
  double nll_before = 0;  // validation NLL at T = 1
  double nll_after = 0;   // validation NLL at the fitted T (<= nll_before)
  int64_t evaluations = 0;
  bool at_bracket_edge = false;
  std::string method = "temperature scaling, golden-section on log T in [0.01, 100], min NLL";
};

TemperatureFit fit_temperature_sigmoid(const std::vector<double>& logits,
                                       const std::vector<bool>& positive);
// `logits` row-major [N, K], `labels` in [0, K).
TemperatureFit fit_temperature_softmax(const std::vector<double>& logits,
                                       const std::vector<int64_t>& labels, int64_t n_classes);

double sigmoid_nll(const std::vector<double>& logits, const std::vector<bool>& positive,
                   double temperature = 1);
double softmax_nll(const std::vector<double>& logits, const std::vector<int64_t>& labels,
                   int64_t n_classes, double temperature = 1);

// z / T for every logit (test logits, with T from the validation fit). Throws for T <= 0.
std::vector<double> apply_temperature(const std::vector<double>& logits, double temperature);
// Probabilities from (scaled) logits: element-wise sigmoid; row-wise softmax of [N, K].
std::vector<double> sigmoid_probabilities(const std::vector<double>& logits);
std::vector<double> softmax_probabilities(const std::vector<double>& logits, int64_t n_classes);

}  // namespace cxr
