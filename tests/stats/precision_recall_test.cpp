// Average precision and the PR curve: scikit-learn's documented example, a hand-worked case with
// ties, and the definition recomputed by brute force on random cases.
#include "engine/precision_recall.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "core/errors.h"

namespace cxr {
namespace {

// scikit-learn's docstring: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.83.
// By hand, thresholds descending: 0.8 → P 1, R ½; 0.4 → P ½, R ½; 0.35 → P ⅔, R 1; 0.1 → P ½,
// R 1. AP = ½·1 + 0·½ + ½·⅔ + 0·½ = 5/6.
TEST(AveragePrecision, ScikitLearnDocstringExample) {
  const AveragePrecision ap = average_precision({0.1, 0.4, 0.35, 0.8}, {false, false, true, true});
  EXPECT_NEAR(ap.value, 5.0 / 6, 1e-15);
  EXPECT_EQ(ap.prevalence, 0.5);
  const PrCurve c = pr_curve({0.1, 0.4, 0.35, 0.8}, {false, false, true, true});
  // sklearn's precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0] reversed.
  const std::vector<double> p = {1, 1, 0.5, 2.0 / 3, 0.5}, r = {0, 0.5, 0.5, 1, 1};
  ASSERT_EQ(c.precision.size(), p.size());
  for (size_t k = 0; k < p.size(); ++k) {
    EXPECT_NEAR(c.precision[k], p[k], 1e-15);
    EXPECT_NEAR(c.recall[k], r[k], 1e-15);
  }
  EXPECT_EQ(c.thresholds[1], 0.8);
  EXPECT_TRUE(std::isinf(c.thresholds[0]));
}

// Ties move together: scores 0.9 N, then 0.5 {P, N, P}, 0.2 N. Thresholds: 0.9 → P 0, R 0;
// 0.5 → TP 2, FP 2: P ½, R 1; 0.2 → P 2/5, R 1. AP = 0·0 + (1 − 0)·½ + 0 = 0.5 (no
// interpolation: an interpolated AP would use max precision to the right).
TEST(AveragePrecision, HandWorkedWithTies) {
  EXPECT_DOUBLE_EQ(
      average_precision({0.5, 0.5, 0.5, 0.2, 0.9}, {true, false, true, false, false}).value, 0.5);
}

// scikit-learn's definition, written independently: for each distinct threshold t (descending),
// count TP(t), FP(t) over all samples, and sum (R_n − R_{n−1}) P_n.
double ap_by_definition(const std::vector<double>& s, const std::vector<bool>& y) {
  std::set<double, std::greater<>> thresholds(s.begin(), s.end());
  double pos = 0;
  for (bool v : y) pos += v;
  double prev_recall = 0, ap = 0;
  for (double t : thresholds) {
    double tp = 0, fp = 0;
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] >= t) (y[i] ? tp : fp) += 1;
    const double recall = tp / pos;
    ap += (recall - prev_recall) * tp / (tp + fp);
    prev_recall = recall;
  }
  return ap;
}

TEST(AveragePrecision, EqualsTheDefinitionOnRandomCasesWithTies) {
  std::mt19937_64 rng(99);
  double worst = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const size_t n = 5 + rng() % 80;
    std::vector<double> s(n);
    std::vector<bool> y(n);
    for (size_t i = 0; i < n; ++i) {
      y[i] = rng() % 3 == 0;
      s[i] = static_cast<double>(rng() % 7) + (y[i] ? 2.0 : 0.0);
    }
    y[0] = true;
    worst = std::max(worst, std::fabs(average_precision(s, y).value - ap_by_definition(s, y)));
  }
  EXPECT_LT(worst, 1e-14);
}

TEST(AveragePrecision, UndefinedWithoutPositivesAndNaNRefused) {
  const AveragePrecision ap = average_precision({0.2, 0.4}, {false, false});
  EXPECT_TRUE(std::isnan(ap.value));
  EXPECT_EQ(ap.reason, "no positives");
  EXPECT_EQ(average_precision({}, {}).reason, "no samples");
  EXPECT_EQ(average_precision({0.2, 0.4}, {true, true}).value, 1.0);  // no negatives: AP is 1
  EXPECT_THROW(average_precision({0.2, NAN}, {true, false}), UsageError);
}

}  // namespace
}  // namespace cxr
