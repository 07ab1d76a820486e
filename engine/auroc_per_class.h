// DeLong AUROC intervals per class (one-vs-rest for single-label, per label for multi-label) and
// the macro average with its own interval, for `cxrtune eval` and metrics.json.
//
// Macro CI (the choice, and why): the macro AUROC is the mean of the K class AUROCs, so
// Var(macro) = 1/K² Σ_k Σ_l Cov(AUC_k, AUC_l). The class AUROCs are computed on the same images
// and are correlated (one-vs-rest AUROCs share every image; co-occurring findings share
// scores), so summing the per-class variances alone would be wrong. The covariance is DeLong's,
// extended to classes whose positive/negative split differs: each image i gets, per class k, its
// centred structural component scaled so that the diagonal is exactly DeLong's variance,
//   ψ_k(i) = (V10_k(i) − AUC_k)/√(m_k(m_k−1)) if i is a positive of k,
//            (V01_k(i) − AUC_k)/√(n_k(n_k−1)) if i is a negative of k,
// and Cov(AUC_k, AUC_l) = Σ_i ψ_k(i) ψ_l(i) (the Hájek projection of the two U-statistics).
// When two classes share the same labels this is exactly DeLong's S10/m + S01/n covariance.
// Deterministic and O(K N log N + K² N), unlike a bootstrap. The interval is plain, clipped to
// [0, 1], like the per-class ones. The macro averages the classes whose AUROC is defined (as
// metrics.h's macro_auroc does); `macro_classes` lists them. Its interval is NaN, with a reason,
// when one of them has no variance (fewer than 2 positives or negatives). macro.n_pos/n_neg
// stay 0: the counts are per class.
//
// Masked labels (multi-label data.uncertain: ignore, a target below 0): an image whose label k
// is masked is neither a positive nor a negative of k. Class k's AUROC, variance and interval
// are DeLong's on k's unmasked images alone (exactly what the subset would give on its own), and
// ψ_k(i) = 0 for a masked image: AUC_k does not depend on it, so it adds nothing to the Hájek
// projection of AUC_k. Cov(AUC_k, AUC_l) = Σ_i ψ_k(i) ψ_l(i) then sums over the images unmasked
// in both k and l, each ψ scaled by its own class's m_k, n_k. This is the covariance of two
// U-statistics on overlapping samples (images independent), not the covariance of AUROCs
// recomputed on the common subset; the masked simulation in auroc_per_class_test checks the
// macro variance it gives against the simulated spread.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/delong.h"

namespace cxr {

struct PerClassAuroc {
  std::vector<AurocInterval> classes;  // [K], in class order
  std::vector<double> covariance;      // K×K row-major; NaN where a class is undefined
  std::vector<int64_t> macro_classes;  // the classes averaged into `macro`
  AurocInterval macro;
};

// Single-label: `probs` row-major [N, K] scores (softmax probabilities or logits), `labels`
// class indices in [0, K). Class k's positives are the images labelled k.
PerClassAuroc auroc_one_vs_rest(const std::vector<double>& probs,
                                const std::vector<int64_t>& labels, int64_t n_classes,
                                double level = 0.95);

// Multi-label: `probs` and `targets` row-major [N, K]; a target >= 0.5 is a positive, a target
// below 0 is masked (counted for neither side of its label).
PerClassAuroc auroc_multi_label(const std::vector<double>& probs,
                                const std::vector<double>& targets, int64_t n_labels,
                                double level = 0.95);

// The general form both use: `positive[k]` are class k's labels, `scores[k]` its scores, each
// with one entry per image. `counted[k][i]` false masks image i for class k; empty `counted`
// counts every image for every class.
PerClassAuroc auroc_per_class(const std::vector<std::vector<double>>& scores,
                              const std::vector<std::vector<bool>>& positive, double level = 0.95,
                              const std::vector<std::vector<bool>>& counted = {});

}  // namespace cxr
