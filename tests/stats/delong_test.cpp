// DeLong AUROC variance, interval and paired test: the fast midrank algorithm (Sun & Xu 2014)
// against the O(m·n) definition and against the two-sample jackknife, hand-worked cases, and the
// edge cases (one class, all tied, one sample per class, NaN).
#include "engine/delong.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

// The definition: ψ over all positive–negative pairs, S10/S01 with 1/(m−1), 1/(n−1).
struct Slow {
  std::vector<double> auc, cov;  // cov K×K
};
Slow slow_delong(const std::vector<std::vector<double>>& models, const std::vector<bool>& pos) {
  const size_t k = models.size();
  std::vector<std::vector<double>> v10(k), v01(k);
  Slow s;
  for (size_t a = 0; a < k; ++a) {
    std::vector<double> x, y;
    for (size_t i = 0; i < pos.size(); ++i) (pos[i] ? x : y).push_back(models[a][i]);
    auto psi = [](double p, double q) { return p > q ? 1.0 : p == q ? 0.5 : 0.0; };
    double total = 0;
    for (double xi : x) {
      double r = 0;
      for (double yj : y) r += psi(xi, yj);
      v10[a].push_back(r / static_cast<double>(y.size()));
      total += r;
    }
    for (double yj : y) {
      double r = 0;
      for (double xi : x) r += psi(xi, yj);
      v01[a].push_back(r / static_cast<double>(x.size()));
    }
    s.auc.push_back(total / static_cast<double>(x.size() * y.size()));
  }
  const auto m = static_cast<double>(v10[0].size()), n = static_cast<double>(v01[0].size());
  s.cov.assign(k * k, 0);
  for (size_t a = 0; a < k; ++a)
    for (size_t b = 0; b < k; ++b) {
      double s10 = 0, s01 = 0;
      for (size_t i = 0; i < v10[a].size(); ++i)
        s10 += (v10[a][i] - s.auc[a]) * (v10[b][i] - s.auc[b]);
      for (size_t j = 0; j < v01[a].size(); ++j)
        s01 += (v01[a][j] - s.auc[a]) * (v01[b][j] - s.auc[b]);
      s.cov[a * k + b] = s10 / (m - 1) / m + s01 / (n - 1) / n;
    }
  return s;
}

TEST(Delong, FastEqualsPairwiseDefinitionOnRandomCasesWithTies) {
  std::mt19937_64 rng(2014);
  double worst = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 4 + static_cast<int>(rng() % 120);
    const int levels = 2 + static_cast<int>(rng() % 12);  // few distinct scores: many ties
    std::vector<bool> pos(static_cast<size_t>(n));
    std::vector<std::vector<double>> models(3, std::vector<double>(static_cast<size_t>(n)));
    for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = i < 2 || (i >= 4 && rng() % 3 == 0);
    pos[2] = pos[3] = false;  // at least 2 of each class
    for (auto& s : models)
      for (int i = 0; i < n; ++i)
        s[static_cast<size_t>(i)] =
            static_cast<double>(rng() % static_cast<uint64_t>(levels)) +
            (pos[static_cast<size_t>(i)] ? static_cast<double>(rng() % 3) : 0.0);
    const DelongComponents fast = delong_components(models, pos);
    const auto cov = delong_covariance(fast);
    const Slow slow = slow_delong(models, pos);
    for (size_t a = 0; a < 3; ++a) {
      worst = std::max(worst, std::fabs(fast.auc[a] - slow.auc[a]));
      EXPECT_DOUBLE_EQ(fast.auc[a], auroc(models[a], pos));  // metrics.h agrees
    }
    for (size_t e = 0; e < 9; ++e) worst = std::max(worst, std::fabs(cov[e] - slow.cov[e]));
  }
  std::printf("fast vs pairwise DeLong: max |difference| of AUC, variance, covariance = %.3g\n",
              worst);
  EXPECT_LT(worst, 1e-12);
}

// DeLong's variance is exactly the two-sample jackknife (leave one positive out, then one
// negative out; Arvesen 1969): AUC_(−i) = (m·AUC − V10_i)/(m − 1), so
// (m−1)/m Σ_i (AUC_(−i) − mean)² = Σ_i (V10_i − AUC)²/(m(m−1)) = S10/m. An independent check
// through metrics.h's rank-sum AUROC only.
TEST(Delong, VarianceEqualsTwoSampleJackknife) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> s;
    std::vector<bool> y;
    for (int i = 0; i < 40; ++i) {
      y.push_back(i % 3 == 0);
      s.push_back(std::round(4 * (noise(rng) + (y.back() ? 1.0 : 0.0))) / 4);  // ties
    }
    double jack = 0;
    for (bool cls : {true, false}) {
      std::vector<double> loo;
      for (size_t i = 0; i < s.size(); ++i) {
        if (y[i] != cls) continue;
        std::vector<double> s2;
        std::vector<bool> y2;
        for (size_t j = 0; j < s.size(); ++j)
          if (j != i) s2.push_back(s[j]), y2.push_back(y[j]);
        loo.push_back(auroc(s2, y2));
      }
      double mean = 0;
      for (double v : loo) mean += v;
      mean /= static_cast<double>(loo.size());
      double ss = 0;
      for (double v : loo) ss += (v - mean) * (v - mean);
      jack += ss * static_cast<double>(loo.size() - 1) / static_cast<double>(loo.size());
    }
    EXPECT_NEAR(delong_auroc(s, y).variance, jack, 1e-12);
  }
}

// Hand-worked (m = 3 positives, n = 2 negatives, one tie):
//   positives 0.8, 0.6, 0.4; negatives 0.6, 0.2.
//   V10: 0.8 → (1 + 1)/2 = 1; 0.6 → (½ + 1)/2 = 0.75; 0.4 → (0 + 1)/2 = 0.5. AUC = 2.25/3 = 0.75.
//   V01: 0.6 → (1 + ½ + 0)/3 = 0.5; 0.2 → 3/3 = 1.
//   S10 = (0.25² + 0 + 0.25²)/2 = 0.0625; S01 = (0.25² + 0.25²)/1 = 0.125.
//   Var = 0.0625/3 + 0.125/2 = 1/12; SE = 0.288675; z_.975 = 1.959964;
//   CI = 0.75 ± 0.565793 = [0.184207, 1.315793] → clipped to [0.184207, 1] (as pROC clips).
const std::vector<double> kScoresA = {0.8, 0.6, 0.4, 0.6, 0.2};
const std::vector<double> kScoresB = {0.7, 0.3, 0.5, 0.1, 0.4};
const std::vector<bool> kLabels = {true, true, true, false, false};

TEST(Delong, HandWorkedIntervalClippedAtOne) {
  const AurocInterval a = delong_auroc(kScoresA, kLabels);
  EXPECT_TRUE(a.defined()) << a.reason;
  EXPECT_DOUBLE_EQ(a.auc, 0.75);
  EXPECT_NEAR(a.variance, 1.0 / 12, 1e-15);
  EXPECT_NEAR(a.se, 0.28867513459481287, 1e-15);
  EXPECT_NEAR(a.lower, 0.184207132961914088, 1e-14);  // mpmath, 30 digits
  EXPECT_EQ(a.upper, 1.0);
  EXPECT_EQ(a.n_pos, 3);
  EXPECT_EQ(a.n_neg, 2);
}

// Hand-worked paired test, model B on the same five samples:
//   B positives 0.7, 0.3, 0.5; negatives 0.1, 0.4.
//   V10_B: 0.7 → 1; 0.3 → (1 + 0)/2 = 0.5; 0.5 → 1.  AUC_B = 2.5/3 = 5/6.
//   V01_B: 0.1 → 1; 0.4 → 2/3.
//   Δ = 0.75 − 5/6 = −1/12. D10 = V10_A − V10_B = (0, 0.25, −0.5), mean −1/12;
//   S10(D) = ((1/12)² + (1/3)² + (5/12)²)/2 = (0.0069444 + 0.1111111 + 0.1736111)/2 = 0.1458333.
//   D01 = (0.5 − 1, 1 − 2/3) = (−0.5, 1/3), mean −1/12; S01(D) = 2·(5/12)²/1 = 0.3472222.
//   Var(Δ) = 0.1458333/3 + 0.3472222/2 = 0.0486111 + 0.1736111 = 2/9; SE = √2/3 = 0.471405.
//   z = (−1/12)/(√2/3) = −1/(4√2) = −0.1767767; p = erfc(0.1767767/√2) = erfc(0.125) = 0.8596838.
//   CI = −1/12 ± 1.959964·0.471405 = [−1.007269 → clipped −1, 0.840603].
TEST(Delong, HandWorkedPairedTest) {
  const AurocDifference d = delong_paired_test(kScoresA, kScoresB, kLabels);
  EXPECT_TRUE(d.defined()) << d.reason;
  EXPECT_DOUBLE_EQ(d.auc_a, 0.75);
  EXPECT_NEAR(d.auc_b, 5.0 / 6, 1e-15);
  EXPECT_NEAR(d.delta, -1.0 / 12, 1e-15);
  EXPECT_NEAR(d.variance, 2.0 / 9, 1e-15);
  EXPECT_NEAR(d.z, -1 / (4 * std::sqrt(2.0)), 1e-14);
  EXPECT_NEAR(d.p_value, 0.859683795198666183, 1e-14);
  EXPECT_EQ(d.lower, -1.0);
  EXPECT_NEAR(d.upper, 0.840602549566451964, 1e-14);
  // The same through V_a + V_b − 2 Cov. By hand: V10_B − 5/6 = (1/6, −1/3, 1/6), S10_B = 1/12;
  // V01_B − 5/6 = (1/6, −1/6), S01_B = 1/18; V_b = (1/12)/3 + (1/18)/2 = 1/18.
  // S10_AB = (0.25·1/6 + 0 − 0.25·1/6)/2 = 0; S01_AB = (−0.25·1/6 − 0.25·1/6)/1 = −1/12;
  // Cov = 0/3 + (−1/12)/2 = −1/24. 1/12 + 1/18 + 2/24 = 2/9.
  const auto cov = delong_covariance(delong_components({kScoresA, kScoresB}, kLabels));
  EXPECT_NEAR(cov[3], 1.0 / 18, 1e-15);
  EXPECT_NEAR(cov[1], -1.0 / 24, 1e-15);
  EXPECT_NEAR(cov[0] + cov[3] - 2 * cov[1], d.variance, 1e-15);
  EXPECT_NEAR(d.correlation, (-1.0 / 24) / std::sqrt(1.0 / 12 / 18), 1e-14);
}

TEST(Delong, PairedTestOfAModelWithItselfAndAShiftedCopy) {
  std::vector<double> shifted;
  for (double s : kScoresA) shifted.push_back(3 * s + 1);  // same ranking
  const AurocDifference d = delong_paired_test(kScoresA, shifted, kLabels);
  EXPECT_EQ(d.delta, 0);
  EXPECT_EQ(d.variance, 0);
  EXPECT_EQ(d.z, 0);
  EXPECT_EQ(d.p_value, 1);
}

TEST(Delong, PairedPValueKeepsPrecisionForLargeZ) {
  // Two models on 2,000 samples, one perfect, one weak: z is large and p must not be 0.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise;
  std::vector<double> good, weak;
  std::vector<bool> y;
  for (int i = 0; i < 2000; ++i) {
    y.push_back(i % 2 == 0);
    good.push_back((y.back() ? 3.0 : 0.0) + noise(rng));
    weak.push_back((y.back() ? 0.3 : 0.0) + noise(rng));
  }
  const AurocDifference d = delong_paired_test(good, weak, y);
  EXPECT_GT(d.z, 30);
  EXPECT_GT(d.p_value, 0);
  EXPECT_NEAR(d.p_value, std::erfc(d.z / std::sqrt(2.0)), 1e-300);
}

TEST(Delong, OneClassOnlyIsNaNWithAReason) {
  const AurocInterval a = delong_auroc({0.1, 0.2, 0.3}, {true, true, true});
  EXPECT_TRUE(std::isnan(a.auc));
  EXPECT_TRUE(std::isnan(a.variance));
  EXPECT_TRUE(std::isnan(a.lower));
  EXPECT_EQ(a.reason, "no negatives");
  EXPECT_EQ(delong_auroc({0.1, 0.2}, {false, false}).reason, "no positives");
  EXPECT_EQ(delong_auroc({}, {}).reason, "no samples");
  const AurocDifference d = delong_paired_test({0.1, 0.2}, {0.3, 0.1}, {true, true});
  EXPECT_TRUE(std::isnan(d.p_value));
  EXPECT_EQ(d.reason, "no negatives");
}

TEST(Delong, AllScoresTiedGiveHalfWithZeroVariance) {
  const AurocInterval a =
      delong_auroc(std::vector<double>(10, 0.3),
                   {true, false, true, false, true, false, false, true, true, false});
  EXPECT_TRUE(a.defined());
  EXPECT_EQ(a.auc, 0.5);
  EXPECT_EQ(a.variance, 0);
  EXPECT_EQ(a.lower, 0.5);
  EXPECT_EQ(a.upper, 0.5);
}

TEST(Delong, OneSamplePerClassHasAnAurocButNoVariance) {
  const AurocInterval a = delong_auroc({0.9, 0.1}, {true, false});
  EXPECT_EQ(a.auc, 1.0);
  EXPECT_TRUE(std::isnan(a.variance));
  EXPECT_FALSE(a.defined());
  EXPECT_NE(a.reason.find("one positive"), std::string::npos);
  EXPECT_EQ(delong_auroc({0.5, 0.5}, {true, false}).auc, 0.5);
  EXPECT_EQ(delong_auroc({0.1, 0.9}, {true, false}).auc, 0.0);
  EXPECT_NE(delong_auroc({0.9, 0.1, 0.2}, {true, false, false}).reason.find("one positive"),
            std::string::npos);
  EXPECT_NE(delong_auroc({0.9, 0.8, 0.2}, {true, true, false}).reason.find("one negative"),
            std::string::npos);
}

TEST(Delong, BadInputIsAUsageError) {
  EXPECT_THROW(delong_auroc({0.1, NAN, 0.3}, {false, true, true}), UsageError);
  EXPECT_THROW(delong_auroc({0.1, 0.3}, {false, true, true}), UsageError);
  EXPECT_THROW(delong_paired_test({0.1, 0.2}, {0.1}, {false, true}), UsageError);
  EXPECT_THROW(delong_auroc({0.1, 0.3}, {false, true}, 1.5), UsageError);
}

}  // namespace
}  // namespace cxr
