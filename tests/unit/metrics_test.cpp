// AUROC, ROC, operating points and confusion matrices on hand-checked cases (ties included) and
// against a brute-force pairwise count.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

TEST(Auroc, HandCheckedCases) {
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.2, 0.3}, {false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0.9, 0.2, 0.3}, {true, false, false}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0.9, 0.2}, {false, true}), 0.0);
}

TEST(Auroc, TiesCountHalf) {
  EXPECT_DOUBLE_EQ(auroc({0.5, 0.5}, {true, false}), 0.5);
  // pos {0.4, 0.8} vs neg {0.1, 0.4}: 1 + 0.5 + 1 + 1 of 4 pairs.
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.4, 0.8}, {false, true, false, true}), 0.875);
}

TEST(Auroc, UndefinedWithOneClass) {
  EXPECT_TRUE(std::isnan(auroc({0.1, 0.2}, {true, true})));
  EXPECT_TRUE(std::isnan(auroc({0.1, 0.2}, {false, false})));
}

TEST(Auroc, NanScoresAreRefusedNotSorted) {
  EXPECT_THROW(auroc({0.1, NAN, 0.3}, {false, true, true}), RuntimeFailure);
  EXPECT_THROW(roc_curve({NAN, 0.2}, {true, false}), RuntimeFailure);
}

TEST(Auroc, EqualsPairwiseCountOnRandomDataWithTies) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(0, 9);  // few distinct scores: many ties
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> s(57);
    std::vector<bool> y(57);
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = level(rng) / 10.0;
      y[i] = (level(rng) + (s[i] > 0.5 ? 3 : 0)) > 6;
    }
    double pairs = 0, wins = 0;
    for (size_t i = 0; i < s.size(); ++i)
      for (size_t j = 0; j < s.size(); ++j)
        if (y[i] && !y[j]) {
          pairs += 1;
          wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    EXPECT_NEAR(auroc(s, y), wins / pairs, 1e-12);
  }
}

TEST(Roc, OnePointPerDistinctThresholdAndTrapezoidEqualsAuroc) {
  const std::vector<double> s{0.1, 0.4, 0.4, 0.8, 0.3};
  const std::vector<bool> y{false, true, false, true, false};
  const RocCurve roc = roc_curve(s, y);
  ASSERT_EQ(roc.fpr.size(), 5u);  // origin + 4 distinct scores
  EXPECT_DOUBLE_EQ(roc.fpr.back(), 1.0);
  EXPECT_DOUBLE_EQ(roc.tpr.back(), 1.0);
  double area = 0;
  for (size_t i = 1; i < roc.fpr.size(); ++i)
    area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
  EXPECT_NEAR(area, auroc(s, y), 1e-12);
}

TEST(OperatingPoints, HalfAndYouden) {
  const std::vector<double> s{0.1, 0.4, 0.35, 0.8};
  const std::vector<bool> y{false, false, true, true};
  const OperatingPoint half = operating_point(s, y, 0.5);
  EXPECT_EQ(half.tp, 1);
  EXPECT_EQ(half.fn, 1);
  EXPECT_EQ(half.tn, 2);
  EXPECT_DOUBLE_EQ(half.sensitivity, 0.5);
  EXPECT_DOUBLE_EQ(half.specificity, 1.0);
  // J = 0.5 at thresholds 0.8 and 0.35; the higher one wins.
  const OperatingPoint best = youden_point(s, y);
  EXPECT_DOUBLE_EQ(best.threshold, 0.8);
  EXPECT_DOUBLE_EQ(best.sensitivity - (1 - best.specificity), 0.5);
}

TEST(SingleLabel, ConfusionAccuracyAndBinaryAuroc) {
  // 4 samples, 2 classes: probabilities of class 1 are 0.1, 0.6, 0.7, 0.9.
  const std::vector<double> probs{0.9, 0.1, 0.4, 0.6, 0.3, 0.7, 0.1, 0.9};
  const auto m = single_label_metrics(probs, {0, 0, 1, 1}, {"NORMAL", "PNEUMONIA"});
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_EQ(m.confusion[0][0], 1);
  EXPECT_EQ(m.confusion[0][1], 1);
  EXPECT_EQ(m.confusion[1][1], 2);
  EXPECT_DOUBLE_EQ(m.macro_auroc, 1.0);
  EXPECT_EQ(m.classes[1].support, 2);
}

TEST(MultiLabel, PerLabelAurocAndMacro) {
  const std::vector<double> probs{0.9, 0.2, 0.1, 0.8, 0.7, 0.85};
  const std::vector<double> targets{1, 0, 0, 1, 1, 0};
  const auto m = multi_label_metrics(probs, targets, {"a", "b"});
  EXPECT_DOUBLE_EQ(m.classes[0].auroc, 1.0);   // a: pos {0.9, 0.7} vs neg {0.1}
  EXPECT_DOUBLE_EQ(m.classes[1].auroc, 0.5);   // b: pos {0.8} vs neg {0.2, 0.85}
  EXPECT_DOUBLE_EQ(m.macro_auroc, 0.75);
}

// An ignored label (target -1, CheXpert's U-Ignore) counts for nothing in its label's metrics:
// with it, label b's AUROC and accuracy are those of the other two samples alone (counted as a
// negative, the 0.85 would make b's AUROC 0.5).
TEST(MultiLabel, IgnoredTargetsCountForNothing) {
  const std::vector<double> probs{0.9, 0.2, 0.1, 0.8, 0.7, 0.85};
  const std::vector<double> targets{1, 0, 0, 1, 1, -1};
  const auto m = multi_label_metrics(probs, targets, {"a", "b"});
  EXPECT_DOUBLE_EQ(m.classes[0].auroc, 1.0);
  EXPECT_DOUBLE_EQ(m.classes[1].auroc, 1.0);  // b: pos {0.8} vs neg {0.2}
  EXPECT_EQ(m.classes[1].at_half.tp + m.classes[1].at_half.fp + m.classes[1].at_half.tn + m.classes[1].at_half.fn, 2);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
}

}  // namespace
}  // namespace cxr
