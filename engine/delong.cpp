#include "engine/delong.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.h"
#include "engine/normal_distribution.h"
#include "engine/stats_input.h"

namespace cxr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Midranks (1-based; a tie group at sorted positions i..j−1 gets (i+1+j)/2), Sun & Xu's
// Algorithm 1. Half-integers: exact in double, so V10/V01 below carry no rounding beyond /n.
std::vector<double> midranks(const std::vector<double>& x) {
  const size_t n = x.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && x[order[j]] == x[order[i]]) ++j;
    const double mid = 0.5 * static_cast<double>(i + 1 + j);
    for (size_t k = i; k < j; ++k) rank[order[k]] = mid;
    i = j;
  }
  return rank;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// 1/(len−1) Σ (a − mean a)(b − mean b).
double sample_cov(const std::vector<double>& a, double ma, const std::vector<double>& b,
                  double mb) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
  return s / static_cast<double>(a.size() - 1);
}

std::string variance_reason(int64_t n_pos, int64_t n_neg) {
  std::string r = one_class_reason(n_pos, n_neg);
  if (!r.empty()) return r;
  if (n_pos < 2) return "one positive: DeLong variance needs at least 2 positives";
  if (n_neg < 2) return "one negative: DeLong variance needs at least 2 negatives";
  return "";
}

}  // namespace

DelongComponents delong_components(const std::vector<std::vector<double>>& model_scores,
                                   const std::vector<bool>& positive) {
  DelongComponents c;
  c.n_pos = count_positives(positive);
  c.n_neg = static_cast<int64_t>(positive.size()) - c.n_pos;
  const auto m = static_cast<double>(c.n_pos), n = static_cast<double>(c.n_neg);
  for (const auto& scores : model_scores) {
    check_scores("DeLong", scores, positive);
    std::vector<double> x, y;
    x.reserve(static_cast<size_t>(c.n_pos));
    y.reserve(static_cast<size_t>(c.n_neg));
    for (size_t i = 0; i < scores.size(); ++i) (positive[i] ? x : y).push_back(scores[i]);
    std::vector<double> z = x;
    z.insert(z.end(), y.begin(), y.end());
    const auto tx = midranks(x), ty = midranks(y), tz = midranks(z);
    std::vector<double> v10(x.size()), v01(y.size());
    for (size_t i = 0; i < x.size(); ++i) v10[i] = (tz[i] - tx[i]) / n;
    for (size_t j = 0; j < y.size(); ++j) v01[j] = 1.0 - (tz[x.size() + j] - ty[j]) / m;
    // AUC from the rank sum (Sun & Xu eq. 9), not mean(v10): exact for the half-integer ranks.
    double auc = kNaN;
    if (c.n_pos > 0 && c.n_neg > 0) {
      const double rank_sum =
          std::accumulate(tz.begin(), tz.begin() + static_cast<std::ptrdiff_t>(x.size()), 0.0);
      auc = (rank_sum - m * (m + 1) / 2) / (m * n);
    }
    c.auc.push_back(auc);
    c.v10.push_back(std::move(v10));
    c.v01.push_back(std::move(v01));
  }
  return c;
}

std::vector<double> delong_covariance(const DelongComponents& c) {
  const size_t k = c.auc.size();
  std::vector<double> cov(k * k, kNaN);
  if (c.n_pos < 2 || c.n_neg < 2) return cov;
  const auto m = static_cast<double>(c.n_pos), n = static_cast<double>(c.n_neg);
  for (size_t a = 0; a < k; ++a)
    for (size_t b = a; b < k; ++b) {
      // Centred on the means of the components (= the AUROCs, up to rounding), as DeLong's S10.
      const double s10 = sample_cov(c.v10[a], mean(c.v10[a]), c.v10[b], mean(c.v10[b]));
      const double s01 = sample_cov(c.v01[a], mean(c.v01[a]), c.v01[b], mean(c.v01[b]));
      cov[a * k + b] = cov[b * k + a] = s10 / m + s01 / n;
    }
  return cov;
}

void set_interval(AurocInterval& a, double level) {
  const double z = z_for_level(level);
  a.level = level;
  a.se = a.variance >= 0 ? std::sqrt(a.variance) : kNaN;
  a.lower = std::isnan(a.se) ? kNaN : std::clamp(a.auc - z * a.se, 0.0, 1.0);
  a.upper = std::isnan(a.se) ? kNaN : std::clamp(a.auc + z * a.se, 0.0, 1.0);
}

AurocInterval delong_auroc(const std::vector<double>& scores, const std::vector<bool>& positive,
                           double level) {
  z_for_level(level);  // refuse a bad level before any work
  const DelongComponents c = delong_components({scores}, positive);
  AurocInterval a;
  a.n_pos = c.n_pos;
  a.n_neg = c.n_neg;
  a.auc = c.auc[0];
  a.reason = variance_reason(c.n_pos, c.n_neg);
  a.variance = delong_covariance(c)[0];
  set_interval(a, level);
  return a;
}

AurocDifference delong_paired_test(const std::vector<double>& scores_a,
                                   const std::vector<double>& scores_b,
                                   const std::vector<bool>& positive, double level) {
  const double zq = z_for_level(level);
  const DelongComponents c = delong_components({scores_a, scores_b}, positive);
  AurocDifference d;
  d.level = level;
  d.n_pos = c.n_pos;
  d.n_neg = c.n_neg;
  d.auc_a = c.auc[0];
  d.auc_b = c.auc[1];
  d.delta = d.auc_a - d.auc_b;
  d.reason = variance_reason(c.n_pos, c.n_neg);
  if (!d.reason.empty()) return d;
  const auto cov = delong_covariance(c);
  // Var(Δ) from the differences of the components directly (S10 of V10_a − V10_b), which is
  // V_a + V_b − 2 Cov_ab without the cancellation of subtracting nearly equal variances.
  DelongComponents diff;
  diff.n_pos = c.n_pos;
  diff.n_neg = c.n_neg;
  diff.auc = {d.delta};
  diff.v10 = {c.v10[0]};
  diff.v01 = {c.v01[0]};
  for (size_t i = 0; i < c.v10[0].size(); ++i) diff.v10[0][i] -= c.v10[1][i];
  for (size_t j = 0; j < c.v01[0].size(); ++j) diff.v01[0][j] -= c.v01[1][j];
  d.variance = std::max(0.0, delong_covariance(diff)[0]);
  d.se = std::sqrt(d.variance);
  d.correlation = cov[1] / std::sqrt(cov[0] * cov[3]);
  d.lower = std::clamp(d.delta - zq * d.se, -1.0, 1.0);
  d.upper = std::clamp(d.delta + zq * d.se, -1.0, 1.0);
  if (d.se > 0) {
    d.z = d.delta / d.se;
  } else {
    d.z = d.delta == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), d.delta);
  }
  d.p_value = two_sided_p_value(d.z);
  return d;
}

}  // namespace cxr
