// Operating points chosen on validation and applied, unchanged, to test — choosing a threshold
// on the test set itself would make every test metric optimistic. Predicted positive when
// score >= threshold (as metrics.h's operating_point). Rules:
//   Youden (default): max sensitivity + specificity − 1 over the validation ROC's thresholds;
//     ties keep the highest threshold (as metrics.h's youden_point).
//   TargetSensitivity t: the highest threshold whose validation sensitivity >= t (the most
//     specific point that still reaches the target).
//   TargetSpecificity t: the lowest threshold whose validation specificity >= t (the most
//     sensitive point that still reaches the target).
// Candidate thresholds are the distinct validation scores (and +inf: nothing positive), as in
// roc_curve; "reaches" allows 1e-12 of rounding (19/20 reaches 0.95).
// At the point: sensitivity, specificity, PPV, NPV with Wilson intervals (binomial_intervals.h)
// and F1 with a stratified percentile bootstrap (bootstrap.h), F1 not being a proportion.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/binomial_intervals.h"
#include "engine/bootstrap.h"

namespace cxr {

enum class ThresholdRule { Youden, TargetSensitivity, TargetSpecificity };
std::string to_string(ThresholdRule rule);  // "youden", "target_sensitivity", "target_specificity"

struct ThresholdChoice {
  ThresholdRule rule = ThresholdRule::Youden;
  double target = std::numeric_limits<double>::quiet_NaN();  // in (0, 1] for the target rules
};

struct ChosenThreshold {
  ThresholdChoice choice;
  double threshold = std::numeric_limits<double>::quiet_NaN();
  double val_sensitivity = std::numeric_limits<double>::quiet_NaN();
  double val_specificity = std::numeric_limits<double>::quiet_NaN();
};

// Throws UsageError when validation lacks positives or negatives, or for a target outside (0, 1].
ChosenThreshold choose_threshold(const std::vector<double>& val_scores,
                                 const std::vector<bool>& val_positive,
                                 const ThresholdChoice& choice = {});

struct OperatingPointStats {
  double threshold = std::numeric_limits<double>::quiet_NaN();
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  Proportion sensitivity, specificity, ppv, npv;  // Wilson; "no trials" when a margin is empty
  double f1 = std::numeric_limits<double>::quiet_NaN();  // 2TP/(2TP+FP+FN); NaN if 0/0
  BootstrapInterval f1_interval;
};

// The statistics of `threshold` on one set. The F1 bootstrap is stratified by label and seeded.
OperatingPointStats operating_point_stats(const std::vector<double>& scores,
                                          const std::vector<bool>& positive, double threshold,
                                          uint64_t seed, const BootstrapOptions& bootstrap = {});

// Validation → test: the chosen threshold, and the target next to what test achieved
// (`test_achieved`: test sensitivity for TargetSensitivity, specificity for TargetSpecificity,
// Youden's J for Youden).
struct OperatingPointReport {
  ChosenThreshold chosen;
  OperatingPointStats test;
  double test_achieved = std::numeric_limits<double>::quiet_NaN();
};
OperatingPointReport validate_then_test(const std::vector<double>& val_scores,
                                        const std::vector<bool>& val_positive,
                                        const std::vector<double>& test_scores,
                                        const std::vector<bool>& test_positive,
                                        const ThresholdChoice& choice, uint64_t seed,
                                        const BootstrapOptions& bootstrap = {});

}  // namespace cxr
