#include "engine/auroc_per_class.h"

#include <cmath>
#include <string>

#include "core/errors.h"
#include "engine/stats_input.h"

namespace cxr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ψ_k(i) of the header, one entry per image in image order; 0 for an image that `counted`
// leaves out (its label is masked: AUC_k does not depend on it).
std::vector<double> influence(const DelongComponents& c, const std::vector<bool>& positive,
                              const std::vector<bool>& counted) {
  const auto m = static_cast<double>(c.n_pos), n = static_cast<double>(c.n_neg);
  const double pos_scale = 1.0 / std::sqrt(m * (m - 1)), neg_scale = 1.0 / std::sqrt(n * (n - 1));
  std::vector<double> psi(positive.size(), 0.0);
  size_t i_pos = 0, i_neg = 0;
  for (size_t i = 0; i < positive.size(); ++i) {
    if (!counted[i]) continue;
    psi[i] = positive[i] ? (c.v10[0][i_pos++] - c.auc[0]) * pos_scale
                         : (c.v01[0][i_neg++] - c.auc[0]) * neg_scale;
  }
  return psi;
}

// The scores and labels of the images `counted` keeps, in image order.
void keep_counted(const std::vector<double>& scores, const std::vector<bool>& positive,
                  const std::vector<bool>& counted, std::vector<double>& kept_scores,
                  std::vector<bool>& kept_positive) {
  for (size_t i = 0; i < scores.size(); ++i)
    if (counted[i]) kept_scores.push_back(scores[i]), kept_positive.push_back(positive[i]);
}

}  // namespace

PerClassAuroc auroc_per_class(const std::vector<std::vector<double>>& scores,
                              const std::vector<std::vector<bool>>& positive, double level,
                              const std::vector<std::vector<bool>>& counted) {
  const size_t k = scores.size();
  if (k == 0 || positive.size() != k)
    throw UsageError("per-class AUROC: " + std::to_string(k) + " score columns for " +
                     std::to_string(positive.size()) + " label columns");
  for (size_t c = 1; c < k; ++c)
    if (scores[c].size() != scores[0].size())
      throw UsageError("per-class AUROC: class " + std::to_string(c) + " has " +
                       std::to_string(scores[c].size()) + " scores, class 0 has " +
                       std::to_string(scores[0].size()));
  if (!counted.empty() && counted.size() != k)
    throw UsageError("per-class AUROC: " + std::to_string(counted.size()) + " mask columns for " +
                     std::to_string(k) + " classes");
  for (size_t c = 0; c < counted.size(); ++c)
    if (counted[c].size() != scores[c].size())
      throw UsageError("per-class AUROC: class " + std::to_string(c) + " has " +
                       std::to_string(counted[c].size()) + " mask entries for " +
                       std::to_string(scores[c].size()) + " scores");
  PerClassAuroc out;
  std::vector<std::vector<double>> psi(k);
  std::vector<bool> has_variance(k);
  for (size_t c = 0; c < k; ++c) {
    const std::vector<bool> every(scores[c].size(), true);
    const std::vector<bool>& counts = counted.empty() ? every : counted[c];
    std::vector<double> s;
    std::vector<bool> y;
    keep_counted(scores[c], positive[c], counts, s, y);
    out.classes.push_back(delong_auroc(s, y, level));
    const AurocInterval& a = out.classes.back();
    has_variance[c] = a.defined();
    if (has_variance[c]) psi[c] = influence(delong_components({s}, y), positive[c], counts);
    if (!std::isnan(a.auc)) out.macro_classes.push_back(static_cast<int64_t>(c));
  }
  out.covariance.assign(k * k, kNaN);
  for (size_t a = 0; a < k; ++a)
    for (size_t b = a; b < k; ++b) {
      if (!has_variance[a] || !has_variance[b]) continue;
      double s = 0;
      for (size_t i = 0; i < psi[a].size(); ++i) s += psi[a][i] * psi[b][i];
      out.covariance[a * k + b] = out.covariance[b * k + a] = s;
    }
  // The diagonal is DeLong's variance by construction; keep the per-class value bit for bit.
  for (size_t c = 0; c < k; ++c)
    if (has_variance[c]) out.covariance[c * k + c] = out.classes[c].variance;

  AurocInterval& macro = out.macro;
  macro.method =
      "mean of class AUROCs; variance 1/K^2 sum of their DeLong covariance "
      "(per-image structural components; a masked label's image adds nothing to its class, so a "
      "covariance sums over the images unmasked in both classes), plain scale, clipped to [0, 1]";
  macro.level = level;
  if (out.macro_classes.empty()) {
    macro.reason = "no class has a defined AUROC";
    return out;
  }
  const auto used = static_cast<double>(out.macro_classes.size());
  double sum = 0, var = 0;
  bool all_variances = true;
  for (int64_t a : out.macro_classes) {
    sum += out.classes[static_cast<size_t>(a)].auc;
    all_variances = all_variances && has_variance[static_cast<size_t>(a)];
    for (int64_t b : out.macro_classes)
      var += out.covariance[static_cast<size_t>(a) * k + static_cast<size_t>(b)];
  }
  macro.auc = sum / used;
  if (!all_variances) {
    macro.reason =
        "a class in the average has no DeLong variance (fewer than 2 positives or negatives)";
  } else {
    macro.variance = std::max(0.0, var / (used * used));
  }
  set_interval(macro, level);
  return out;
}

PerClassAuroc auroc_one_vs_rest(const std::vector<double>& probs,
                                const std::vector<int64_t>& labels, int64_t n_classes,
                                double level) {
  if (n_classes <= 0 || probs.size() != labels.size() * static_cast<size_t>(n_classes))
    throw UsageError("one-vs-rest AUROC: " + std::to_string(probs.size()) + " scores for " +
                     std::to_string(labels.size()) + " samples x " + std::to_string(n_classes) +
                     " classes");
  std::vector<std::vector<double>> scores;
  std::vector<std::vector<bool>> positive;
  for (int64_t c = 0; c < n_classes; ++c) {
    scores.push_back(column(probs, n_classes, c));
    std::vector<bool> pos(labels.size());
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] >= n_classes)
        throw UsageError("one-vs-rest AUROC: label " + std::to_string(labels[i]) + " of sample " +
                         std::to_string(i) + " is not in [0, " + std::to_string(n_classes) + ")");
      pos[i] = labels[i] == c;
    }
    positive.push_back(std::move(pos));
  }
  return auroc_per_class(scores, positive, level);
}

PerClassAuroc auroc_multi_label(const std::vector<double>& probs,
                                const std::vector<double>& targets, int64_t n_labels,
                                double level) {
  if (n_labels <= 0 || probs.size() != targets.size() ||
      probs.size() % static_cast<size_t>(n_labels))
    throw UsageError("multi-label AUROC: " + std::to_string(probs.size()) + " scores and " +
                     std::to_string(targets.size()) + " targets for " + std::to_string(n_labels) +
                     " labels");
  std::vector<std::vector<double>> scores;
  std::vector<std::vector<bool>> positive, counted;
  for (int64_t c = 0; c < n_labels; ++c) {
    scores.push_back(column(probs, n_labels, c));
    const auto t = column(targets, n_labels, c);
    std::vector<bool> pos(t.size()), counts(t.size());
    for (size_t i = 0; i < t.size(); ++i) pos[i] = t[i] >= 0.5, counts[i] = t[i] >= 0;
    positive.push_back(std::move(pos));
    counted.push_back(std::move(counts));
  }
  return auroc_per_class(scores, positive, level, counted);
}

}  // namespace cxr
