// AUROC with its variance, confidence interval and the paired test of two AUROCs, by DeLong,
// DeLong & Clarke-Pearson (1988, Biometrics 44:837) computed with the fast algorithm of Sun & Xu
// (2014, IEEE Signal Processing Letters 21:1389): midranks instead of all m·n pairs, so
// O(N log N) per model.
//
// Definitions (m positives X_i, n negatives Y_j, ψ(x, y) = 1 if x > y, ½ if x = y, 0 if x < y):
//   AUC   = 1/(m n) Σ_i Σ_j ψ(X_i, Y_j)                        (Mann–Whitney, ties count ½)
//   V10_i = 1/n Σ_j ψ(X_i, Y_j),  V01_j = 1/m Σ_i ψ(X_i, Y_j)  (structural components)
//   S10[k,l] = 1/(m−1) Σ_i (V10_ki − AUC_k)(V10_li − AUC_l), S01 likewise over j with 1/(n−1)
//   Cov(AUC_k, AUC_l) = S10[k,l]/m + S01[k,l]/n
// Sun & Xu: with midranks T_Z over X∪Y, T_X over X, T_Y over Y,
//   V10_i = (T_Z(X_i) − T_X(X_i))/n,  V01_j = 1 − (T_Z(Y_j) − T_Y(Y_j))/m.
//
// Intervals are on the plain AUROC scale, AUC ± z·SE, clipped to [0, 1], as pROC's ci.auc
// (method "delong") does; pROC likewise tests ΔAUC with z = Δ/SE(Δ) on the normal distribution
// (roc.test, method "delong", paired). The variance needs m >= 2 and n >= 2 (the 1/(m−1)); with
// one positive or one negative the AUROC is a number but its variance is NaN with a reason.
// Scores: higher means more likely positive; NaN scores are a UsageError.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace cxr {

// An AUROC with its DeLong variance and interval. `reason` is "" when everything is defined;
// otherwise it says what is not ("no positives": auc NaN; "one positive": variance NaN).
struct AurocInterval {
  double auc = std::numeric_limits<double>::quiet_NaN();
  double variance = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();
  double lower = std::numeric_limits<double>::quiet_NaN();  // clipped to [0, 1]
  double upper = std::numeric_limits<double>::quiet_NaN();
  double level = 0.95;
  int64_t n_pos = 0, n_neg = 0;
  std::string method = "DeLong (Sun & Xu midranks), plain scale, clipped to [0, 1]";
  std::string reason;
  bool defined() const { return reason.empty(); }
};

// Structural components of K models scored on the same samples. Positives and negatives keep
// their order of appearance in the input; v10[k][i] belongs to the i-th positive.
struct DelongComponents {
  int64_t n_pos = 0, n_neg = 0;
  std::vector<double> auc;               // [K]
  std::vector<std::vector<double>> v10;  // [K][n_pos]
  std::vector<std::vector<double>> v01;  // [K][n_neg]
};

// Fast (midrank) components. `model_scores[k]` has one score per sample. Throws UsageError on
// length mismatches or NaN; with one class absent, auc is NaN and v10/v01 hold what exists.
DelongComponents delong_components(const std::vector<std::vector<double>>& model_scores,
                                   const std::vector<bool>& positive);

// Row-major K×K covariance of the K AUROCs, S10/m + S01/n. All NaN when m < 2 or n < 2.
std::vector<double> delong_covariance(const DelongComponents& c);

// Interval from an AUROC and its variance at `level` (plain scale, clipped to [0, 1]).
void set_interval(AurocInterval& a, double level);

// One model: AUROC, DeLong variance, SE and interval at `level`.
AurocInterval delong_auroc(const std::vector<double>& scores, const std::vector<bool>& positive,
                           double level = 0.95);

// Paired DeLong test of two models on the same samples: Δ = AUC_a − AUC_b,
// Var(Δ) = V_a + V_b − 2 Cov_ab, z = Δ/SE, p two-sided (erfc, exact in the tails),
// interval Δ ± z·SE clipped to [−1, 1]. When Var(Δ) = 0: z = 0, p = 1 if Δ = 0, else z = ±inf,
// p = 0 (both models order every pair identically up to a constant shift of Δ).
struct AurocDifference {
  double auc_a = std::numeric_limits<double>::quiet_NaN();
  double auc_b = std::numeric_limits<double>::quiet_NaN();
  double delta = std::numeric_limits<double>::quiet_NaN();
  double variance = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();
  double lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN();
  double z = std::numeric_limits<double>::quiet_NaN();
  double p_value = std::numeric_limits<double>::quiet_NaN();
  double correlation = std::numeric_limits<double>::quiet_NaN();  // of the two AUROC estimates
  double level = 0.95;
  int64_t n_pos = 0, n_neg = 0;
  std::string method = "paired DeLong (Sun & Xu midranks), two-sided normal test";
  std::string reason;
  bool defined() const { return reason.empty(); }
};
AurocDifference delong_paired_test(const std::vector<double>& scores_a,
                                   const std::vector<double>& scores_b,
                                   const std::vector<bool>& positive, double level = 0.95);

}  // namespace cxr
