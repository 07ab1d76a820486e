// Thresholds chosen on validation by each rule, by hand, then applied to a test set whose
// counts, Wilson intervals and F1 are checked by hand.
#include "engine/operating_point_selection.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/binomial_intervals.h"
#include "core/errors.h"

namespace cxr {
namespace {

// Validation, 4 positives and 4 negatives, scores descending:
//   0.9 P, 0.8 P, 0.7 N, 0.6 P, 0.4 N, 0.3 P, 0.2 N, 0.1 N
// threshold:   0.9   0.8   0.7   0.6   0.4   0.3   0.2   0.1
// sensitivity: .25   .50   .50   .75   .75   1     1     1
// specificity: 1     1     .75   .75   .50   .50   .25   0
// J:           .25   .50   .25   .50   .25   .50   .25   0
const std::vector<double> kVal = {0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1};
const std::vector<bool> kValY = {true, true, false, true, false, true, false, false};

TEST(ChooseThreshold, YoudenTiesKeepTheHighestThreshold) {
  const ChosenThreshold c = choose_threshold(kVal, kValY);  // Youden is the default
  EXPECT_EQ(c.choice.rule, ThresholdRule::Youden);
  EXPECT_EQ(c.threshold, 0.8);  // J = .5 at 0.8, 0.6 and 0.3
  EXPECT_EQ(c.val_sensitivity, 0.5);
  EXPECT_EQ(c.val_specificity, 1.0);
}

TEST(ChooseThreshold, TargetSensitivityTakesTheHighestThresholdReachingIt) {
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSensitivity, 0.75}).threshold, 0.6);
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSensitivity, 0.95}).threshold, 0.3);
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSensitivity, 0.5}).threshold, 0.8);
  const ChosenThreshold c = choose_threshold(kVal, kValY, {ThresholdRule::TargetSensitivity, 1.0});
  EXPECT_EQ(c.threshold, 0.3);
  EXPECT_EQ(c.val_specificity, 0.5);
}

TEST(ChooseThreshold, TargetSpecificityTakesTheLowestThresholdReachingIt) {
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSpecificity, 0.75}).threshold, 0.6);
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSpecificity, 1.0}).threshold, 0.8);
  EXPECT_EQ(choose_threshold(kVal, kValY, {ThresholdRule::TargetSpecificity, 0.5}).threshold, 0.3);
}

TEST(ChooseThreshold, ExactFractionsReachTheirTarget) {
  // 19 of 20 positives above the threshold is sensitivity 0.95: it reaches a 0.95 target.
  std::vector<double> s;
  std::vector<bool> y;
  for (int i = 0; i < 20; ++i) s.push_back(1.0 + i), y.push_back(true);
  for (int i = 0; i < 20; ++i) s.push_back(0.5 + i), y.push_back(false);
  const ChosenThreshold c = choose_threshold(s, y, {ThresholdRule::TargetSensitivity, 0.95});
  EXPECT_EQ(c.threshold, 2.0);
  EXPECT_EQ(c.val_sensitivity, 0.95);
}

TEST(ChooseThreshold, BadValidationOrTargetIsAUsageError) {
  EXPECT_THROW(choose_threshold({0.1, 0.2}, {true, true}), UsageError);
  EXPECT_THROW(choose_threshold(kVal, kValY, {ThresholdRule::TargetSensitivity, 0}), UsageError);
  EXPECT_THROW(choose_threshold(kVal, kValY, {ThresholdRule::TargetSpecificity}), UsageError);
  EXPECT_THROW(choose_threshold({0.1, NAN}, {true, false}), UsageError);
}

// Test set at the 0.75-sensitivity threshold 0.6 (score >= 0.6 is positive):
//   0.95 P → TP, 0.65 P → TP, 0.6 N → FP, 0.55 P → FN, 0.2 N → TN, 0.1 N → TN
//   sensitivity 2/3, specificity 2/3, PPV 2/3, NPV 2/3, F1 = 2·2/(2·2 + 1 + 1) = 2/3.
TEST(ValidateThenTest, AchievedValuesNextToTheTarget) {
  const std::vector<double> test = {0.95, 0.65, 0.6, 0.55, 0.2, 0.1};
  const std::vector<bool> test_y = {true, true, false, true, false, false};
  const OperatingPointReport r = validate_then_test(
      kVal, kValY, test, test_y, {ThresholdRule::TargetSensitivity, 0.75}, 5, {.resamples = 400});
  EXPECT_EQ(r.chosen.threshold, 0.6);
  EXPECT_EQ(r.chosen.choice.target, 0.75);
  EXPECT_EQ(r.chosen.val_sensitivity, 0.75);
  const OperatingPointStats& t = r.test;
  EXPECT_EQ(t.tp, 2);
  EXPECT_EQ(t.fp, 1);
  EXPECT_EQ(t.tn, 2);
  EXPECT_EQ(t.fn, 1);
  EXPECT_NEAR(r.test_achieved, 2.0 / 3, 1e-15);
  EXPECT_NEAR(t.f1, 2.0 / 3, 1e-15);
  for (const Proportion* p : {&t.sensitivity, &t.specificity, &t.ppv, &t.npv}) {
    EXPECT_NEAR(p->value, 2.0 / 3, 1e-15);
    EXPECT_EQ(p->trials, 3);
    EXPECT_EQ(p->lower, wilson_interval(2, 3).lower);
  }
  EXPECT_TRUE(t.f1_interval.defined());
  EXPECT_LE(t.f1_interval.lower, t.f1);
  EXPECT_GE(t.f1_interval.upper, t.f1);
  EXPECT_EQ(t.f1_interval.estimate, t.f1);
  EXPECT_EQ(to_string(r.chosen.choice.rule), "target_sensitivity");
}

TEST(ValidateThenTest, EmptyMarginsAreNoTrialsNotACrash) {
  // Threshold above every score: nothing predicted positive, PPV has no trials, F1 is 0.
  const OperatingPointStats s = operating_point_stats({0.1, 0.2, 0.3}, {true, false, true}, 0.9, 1);
  EXPECT_EQ(s.ppv.reason, "no trials");
  EXPECT_EQ(s.f1, 0.0);
  EXPECT_EQ(s.sensitivity.value, 0.0);
  EXPECT_THROW(operating_point_stats({0.1}, {true}, NAN, 1), UsageError);
}

}  // namespace
}  // namespace cxr
