// Per-class and macro AUROC intervals: class values agree with metrics.h, the covariance reduces
// to DeLong's when classes share labels, and the macro variance matches the spread of the macro
// AUROC over simulated test sets (the check that the cross-class covariance is right). Masked
// labels: a hand-worked case, a masked image's score changes nothing, each class equals its
// unmasked subset computed alone, and the masked macro variance matches its simulated spread.
#include "engine/auroc_per_class.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

// Softmax probabilities of 3 classes, class signal `d` on the true class's logit.
void three_class_set(std::mt19937_64& rng, const std::vector<int64_t>& labels, double d,
                     std::vector<double>& probs) {
  std::normal_distribution<double> noise;
  probs.assign(labels.size() * 3, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    double z[3], sum = 0;
    for (int c = 0; c < 3; ++c) sum += z[c] = std::exp((c == labels[i] ? d : 0.0) + noise(rng));
    for (int c = 0; c < 3; ++c) probs[i * 3 + static_cast<size_t>(c)] = z[c] / sum;
  }
}

TEST(AurocPerClass, ClassValuesMatchMetricsAndDiagonalIsDelong) {
  std::mt19937_64 rng(11);
  std::vector<int64_t> labels;
  for (int i = 0; i < 90; ++i) labels.push_back(i % 3);
  std::vector<double> probs;
  three_class_set(rng, labels, 1.0, probs);
  const PerClassAuroc r = auroc_one_vs_rest(probs, labels, 3);
  const ClassificationMetrics m = single_label_metrics(probs, labels, {"a", "b", "c"});
  ASSERT_EQ(r.classes.size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(r.classes[c].auc, m.classes[c].auroc, 1e-15);
    EXPECT_EQ(r.covariance[c * 3 + c], r.classes[c].variance);
    EXPECT_EQ(r.classes[c].n_pos, 30);
  }
  EXPECT_NEAR(r.macro.auc, m.macro_auroc, 1e-15);
  EXPECT_TRUE(r.macro.defined()) << r.macro.reason;
  EXPECT_LT(r.macro.lower, r.macro.auc);
  EXPECT_GT(r.macro.upper, r.macro.auc);
}

TEST(AurocPerClass, SharedLabelsGiveDelongCovarianceExactly) {
  std::mt19937_64 rng(12);
  std::normal_distribution<double> noise;
  std::vector<bool> y;
  std::vector<double> a, b, probs, targets;
  for (int i = 0; i < 50; ++i) {
    y.push_back(i % 4 == 0);
    a.push_back(std::round(3 * noise(rng) + (y.back() ? 2 : 0)));
    b.push_back(noise(rng) + (y.back() ? 1 : 0) + 0.5 * a.back());
    probs.insert(probs.end(), {a.back(), b.back()});
    targets.insert(targets.end(), {y.back() ? 1.0 : 0.0, y.back() ? 1.0 : 0.0});
  }
  const PerClassAuroc r = auroc_multi_label(probs, targets, 2);
  const auto cov = delong_covariance(delong_components({a, b}, y));
  for (size_t e = 0; e < 4; ++e) EXPECT_NEAR(r.covariance[e], cov[e], 1e-15) << e;
  // Macro variance = (V_a + V_b + 2 Cov)/4.
  EXPECT_NEAR(r.macro.variance, (cov[0] + cov[3] + 2 * cov[1]) / 4, 1e-15);
}

TEST(AurocPerClass, BinaryOneVsRestMacroIsThePositiveClass) {
  std::vector<double> probs;
  std::vector<int64_t> labels;
  for (int i = 0; i < 20; ++i) {
    const double p1 = 0.05 * i;
    probs.insert(probs.end(), {1 - p1, p1});
    labels.push_back((i * 7) % 10 < 5 ? 1 : 0);
  }
  const PerClassAuroc r = auroc_one_vs_rest(probs, labels, 2);
  EXPECT_NEAR(r.macro.auc, r.classes[1].auc, 1e-15);
  EXPECT_NEAR(r.macro.variance, r.classes[1].variance, 1e-15);
}

TEST(AurocPerClass, ClassWithoutPositivesIsLeftOutOfTheMacro) {
  // Label 1 never occurs: its AUROC is NaN ("no positives"), the macro is label 0's.
  const std::vector<double> probs = {0.9, 0.1, 0.8, 0.2, 0.3, 0.5, 0.2, 0.4, 0.7, 0.3};
  const std::vector<double> targets = {1, 0, 1, 0, 0, 0, 0, 0, 1, 0};
  const PerClassAuroc r = auroc_multi_label(probs, targets, 2);
  EXPECT_EQ(r.classes[1].reason, "no positives");
  ASSERT_EQ(r.macro_classes, std::vector<int64_t>{0});
  EXPECT_EQ(r.macro.auc, r.classes[0].auc);
  EXPECT_NEAR(r.macro.variance, r.classes[0].variance, 1e-15);
  EXPECT_THROW(auroc_one_vs_rest(probs, {0, 1, 2, 0, 1}, 2), UsageError);
  EXPECT_THROW(auroc_multi_label(probs, targets, 3), UsageError);
}

// The macro variance is checked against the truth it estimates: labels fixed, scores drawn
// afresh 1,000 times; the mean DeLong macro variance against the empirical variance of the
// macro AUROC. Summing only the diagonal (ignoring the covariance) is shown to be off.
struct MacroCheck {
  double estimated = 0, diagonal_only = 0, empirical = 0;
};
template <class Draw>
MacroCheck macro_variance_check(int sims, int64_t k, Draw draw) {
  std::vector<double> macro;
  MacroCheck c;
  for (int s = 0; s < sims; ++s) {
    const PerClassAuroc r = draw();
    macro.push_back(r.macro.auc);
    c.estimated += r.macro.variance;
    for (int64_t a = 0; a < k; ++a) c.diagonal_only += r.covariance[static_cast<size_t>(a * k + a)];
  }
  c.estimated /= sims;
  c.diagonal_only /= sims * static_cast<double>(k * k);
  double mean = 0;
  for (double v : macro) mean += v;
  mean /= sims;
  for (double v : macro) c.empirical += (v - mean) * (v - mean);
  c.empirical /= sims - 1;
  return c;
}

TEST(AurocPerClass, MacroVarianceMatchesSimulatedSpreadOneVsRest) {
  std::mt19937_64 rng(13);
  std::vector<int64_t> labels;
  for (int i = 0; i < 240; ++i) labels.push_back(i % 3);
  std::vector<double> probs;
  const MacroCheck c = macro_variance_check(1000, 3, [&] {
    three_class_set(rng, labels, 1.0, probs);
    return auroc_one_vs_rest(probs, labels, 3);
  });
  std::printf("one-vs-rest macro: estimated/empirical variance %.3f (diagonal only %.3f)\n",
              c.estimated / c.empirical, c.diagonal_only / c.empirical);
  EXPECT_NEAR(c.estimated / c.empirical, 1.0, 0.12);
}

TEST(AurocPerClass, MacroVarianceMatchesSimulatedSpreadCorrelatedMultiLabel) {
  std::mt19937_64 rng(14);
  std::normal_distribution<double> noise;
  const int n = 300;
  std::vector<double> targets;  // fixed; labels 0 and 1 co-occur often (shared findings)
  for (int i = 0; i < n; ++i) {
    const bool a = i % 3 == 0, b = a ? i % 2 == 0 : i % 7 == 0, c = i % 5 == 0;
    targets.insert(targets.end(), {a ? 1.0 : 0.0, b ? 1.0 : 0.0, c ? 1.0 : 0.0});
  }
  std::vector<double> probs(targets.size());
  const MacroCheck c = macro_variance_check(1000, 3, [&] {
    for (int i = 0; i < n; ++i) {
      const double shared = noise(rng);  // one image-level factor in every label's score
      for (int k = 0; k < 3; ++k) {
        const size_t e = static_cast<size_t>(i * 3 + k);
        probs[e] = 1.2 * targets[e] + 0.8 * shared + noise(rng);
      }
    }
    return auroc_multi_label(probs, targets, 3);
  });
  std::printf("multi-label macro: estimated/empirical variance %.3f (diagonal only %.3f)\n",
              c.estimated / c.empirical, c.diagonal_only / c.empirical);
  EXPECT_NEAR(c.estimated / c.empirical, 1.0, 0.12);
}

// Two labels, seven images (p0, p1 | t0, t1; -1 = masked):
//   i0 .8 .9 | 1 1   i1 .4 .6 | 1 0   i2 .5 .3 | 0 1   i3 .2 .1 | 0 0
//   i4 .1 .7 | 0 -1  i5 .99 .05 | -1 -1  i6 0 .95 | -1 -1
// Label 0 counts i0..i4: positives {.8, .4}, negatives {.5, .2, .1}: V10 = {1, 2/3},
// V01 = {1/2, 1, 1}, AUC = 5/6, S10 = 1/18, S01 = 1/12, Var = S10/2 + S01/3 = 1/18.
// Label 1 counts i0..i3: positives {.9, .3}, negatives {.6, .1}: V10 = {1, 1/2},
// V01 = {1/2, 1}, AUC = 3/4, S10 = S01 = 1/8, Var = 1/16 + 1/16 = 1/8.
// ψ_0 = {1/6, -1/6}/√2 on i0, i1 and {-1/3, 1/6, 1/6}/√6 on i2, i3, i4;
// ψ_1 = {1/4, -1/4, -1/4, 1/4}/√2 on i0..i3 (i4 is masked for label 1: no term).
// Cov = 1/48 + 1/48 + (1/12 + 1/24)/√12 = 1/24 + 1/(16√3).
struct MaskedCase {
  std::vector<double> probs = {.8, .9, .4, .6, .5, .3, .2, .1, .1, .7, .99, .05, 0, .95};
  std::vector<double> targets = {1, 1, 1, 0, 0, 1, 0, 0, 0, -1, -1, -1, -1, -1};
};

TEST(AurocPerClassMasked, HandWorkedCase) {
  const MaskedCase m;
  const PerClassAuroc r = auroc_multi_label(m.probs, m.targets, 2);
  EXPECT_NEAR(r.classes[0].auc, 5.0 / 6, 1e-15);
  EXPECT_NEAR(r.classes[0].variance, 1.0 / 18, 1e-15);
  EXPECT_EQ(r.classes[0].n_pos, 2);
  EXPECT_EQ(r.classes[0].n_neg, 3);
  EXPECT_NEAR(r.classes[1].auc, 0.75, 1e-15);
  EXPECT_NEAR(r.classes[1].variance, 1.0 / 8, 1e-15);
  EXPECT_EQ(r.classes[1].n_pos + r.classes[1].n_neg, 4);
  const double cov = 1.0 / 24 + 1.0 / (16 * std::sqrt(3.0));
  EXPECT_NEAR(r.covariance[1], cov, 1e-15);
  EXPECT_NEAR(r.covariance[2], cov, 1e-15);
  EXPECT_NEAR(r.macro.auc, 19.0 / 24, 1e-15);
  EXPECT_NEAR(r.macro.variance, (1.0 / 18 + 1.0 / 8 + 2 * cov) / 4, 1e-15);
}

TEST(AurocPerClassMasked, MaskedScoresChangeNothingAndClassesEqualTheirSubsets) {
  const MaskedCase m;
  const PerClassAuroc r = auroc_multi_label(m.probs, m.targets, 2);
  // Any score where the label is masked: i4's label 1, i5 and i6 entirely.
  MaskedCase moved = m;
  moved.probs[9] = 0.0, moved.probs[10] = 0.5, moved.probs[11] = 1.0, moved.probs[12] = 0.45;
  const PerClassAuroc s = auroc_multi_label(moved.probs, moved.targets, 2);
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(s.classes[c].auc, r.classes[c].auc) << c;
    EXPECT_EQ(s.classes[c].variance, r.classes[c].variance) << c;
    EXPECT_EQ(s.classes[c].lower, r.classes[c].lower) << c;
  }
  for (size_t e = 0; e < 4; ++e) EXPECT_EQ(s.covariance[e], r.covariance[e]) << e;
  EXPECT_EQ(s.macro.variance, r.macro.variance);
  // Each class equals DeLong on its unmasked samples computed alone.
  for (size_t c = 0; c < 2; ++c) {
    std::vector<double> sub_scores;
    std::vector<bool> sub_pos;
    for (size_t i = 0; i < 7; ++i)
      if (m.targets[i * 2 + c] >= 0)
        sub_scores.push_back(m.probs[i * 2 + c]), sub_pos.push_back(m.targets[i * 2 + c] > 0.5);
    const AurocInterval alone = delong_auroc(sub_scores, sub_pos);
    EXPECT_EQ(r.classes[c].auc, alone.auc) << c;
    EXPECT_EQ(r.classes[c].variance, alone.variance) << c;
    EXPECT_EQ(r.classes[c].upper, alone.upper) << c;
  }
  // The old reading (a masked label as a negative) gives another class-0 AUROC: the check bites.
  std::vector<double> as_negatives = m.targets;
  for (double& t : as_negatives) t = std::max(t, 0.0);
  EXPECT_NE(auroc_multi_label(m.probs, as_negatives, 2).classes[0].auc, r.classes[0].auc);
}

TEST(AurocPerClassMasked, WhenClassesShareTheirUnmaskedImagesItIsDelongOnThatSubset) {
  // Both labels masked on the same images: the covariance is DeLong's S10/m + S01/n on the
  // common unmasked subset, exactly as without masks.
  std::mt19937_64 rng(15);
  std::normal_distribution<double> noise;
  std::vector<double> probs, targets, a, b;
  std::vector<bool> y;
  for (int i = 0; i < 60; ++i) {
    const bool pos = i % 3 == 0, masked = i % 7 == 2;
    const double sa = noise(rng) + (pos ? 1 : 0), sb = noise(rng) + 0.6 * sa;
    probs.insert(probs.end(), {sa, sb});
    const double t = masked ? -1.0 : pos ? 1.0 : 0.0;
    targets.insert(targets.end(), {t, t});
    if (!masked) a.push_back(sa), b.push_back(sb), y.push_back(pos);
  }
  const PerClassAuroc r = auroc_multi_label(probs, targets, 2);
  const auto cov = delong_covariance(delong_components({a, b}, y));
  for (size_t e = 0; e < 4; ++e) EXPECT_NEAR(r.covariance[e], cov[e], 1e-15) << e;
}

TEST(AurocPerClassMasked, MacroVarianceMatchesSimulatedSpreadWithMaskedLabels) {
  // As the correlated multi-label simulation, with each label masked on a different set of
  // images (overlapping in part): the covariance over the images unmasked in both classes must
  // still give the spread of the macro AUROC.
  std::mt19937_64 rng(16);
  std::normal_distribution<double> noise;
  const int n = 300;
  std::vector<double> targets;
  for (int i = 0; i < n; ++i) {
    const bool a = i % 3 == 0, b = a ? i % 2 == 0 : i % 7 == 0, c = i % 5 == 0;
    const bool mask_a = i % 4 == 1, mask_b = i % 3 == 2 || i % 11 == 0, mask_c = i % 6 == 5;
    targets.insert(targets.end(), {mask_a ? -1.0 : a ? 1.0 : 0.0, mask_b ? -1.0 : b ? 1.0 : 0.0,
                                   mask_c ? -1.0 : c ? 1.0 : 0.0});
  }
  std::vector<double> probs(targets.size());
  const MacroCheck c = macro_variance_check(1000, 3, [&] {
    for (int i = 0; i < n; ++i) {
      const double shared = noise(rng);
      for (int k = 0; k < 3; ++k) {
        const size_t e = static_cast<size_t>(i * 3 + k);
        probs[e] = 1.2 * (targets[e] > 0.5 ? 1.0 : 0.0) + 2.0 * shared + noise(rng);
      }
    }
    return auroc_multi_label(probs, targets, 3);
  });
  std::printf("masked multi-label macro: estimated/empirical variance %.3f (diagonal only %.3f)\n",
              c.estimated / c.empirical, c.diagonal_only / c.empirical);
  EXPECT_NEAR(c.estimated / c.empirical, 1.0, 0.12);
  // The cross-class terms matter here: leaving them out is further from the truth.
  EXPECT_LT(std::abs(c.estimated / c.empirical - 1), std::abs(c.diagonal_only / c.empirical - 1));
}

}  // namespace
}  // namespace cxr
