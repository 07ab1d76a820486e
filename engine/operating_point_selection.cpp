#include "engine/operating_point_selection.h"

#include <cmath>

#include "core/errors.h"
#include "core/metrics.h"
#include "engine/stats_input.h"

namespace cxr {
namespace {

constexpr double kReachTolerance = 1e-12;

double f1_of(int64_t tp, int64_t fp, int64_t fn) {
  const int64_t denom = 2 * tp + fp + fn;
  return denom > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(denom)
                   : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::string to_string(ThresholdRule rule) {
  switch (rule) {
    case ThresholdRule::Youden:
      return "youden";
    case ThresholdRule::TargetSensitivity:
      return "target_sensitivity";
    case ThresholdRule::TargetSpecificity:
      return "target_specificity";
  }
  return "unknown";
}

ChosenThreshold choose_threshold(const std::vector<double>& val_scores,
                                 const std::vector<bool>& val_positive,
                                 const ThresholdChoice& choice) {
  check_scores("operating point", val_scores, val_positive);
  const int64_t n_pos = count_positives(val_positive);
  const std::string missing =
      one_class_reason(n_pos, static_cast<int64_t>(val_positive.size()) - n_pos);
  if (!missing.empty())
    throw UsageError("operating point: the validation set has " + missing +
                     ", so no threshold can be chosen on it");
  if (choice.rule != ThresholdRule::Youden && !(choice.target > 0 && choice.target <= 1))
    throw UsageError("operating point: " + to_string(choice.rule) +
                     " needs a target in (0, 1], not " + std::to_string(choice.target));
  // roc_curve's points: index 0 is +inf (nothing positive), then thresholds descending, along
  // which sensitivity (tpr) and 1 − specificity (fpr) never decrease.
  const RocCurve roc = roc_curve(val_scores, val_positive);
  size_t pick = 0;
  switch (choice.rule) {
    case ThresholdRule::Youden: {
      double best = -std::numeric_limits<double>::infinity();
      for (size_t i = 1; i < roc.thresholds.size(); ++i)
        if (roc.tpr[i] - roc.fpr[i] > best) best = roc.tpr[i] - roc.fpr[i], pick = i;
      break;
    }
    case ThresholdRule::TargetSensitivity:
      pick = roc.thresholds.size() - 1;  // the lowest score: sensitivity 1 reaches any target
      for (size_t i = 0; i < roc.thresholds.size(); ++i)
        if (roc.tpr[i] >= choice.target - kReachTolerance) {
          pick = i;
          break;
        }
      break;
    case ThresholdRule::TargetSpecificity:
      for (size_t i = 0; i < roc.thresholds.size(); ++i)
        if (1 - roc.fpr[i] >= choice.target - kReachTolerance) pick = i;
      break;
  }
  ChosenThreshold c;
  c.choice = choice;
  c.threshold = roc.thresholds[pick];
  c.val_sensitivity = roc.tpr[pick];
  c.val_specificity = 1 - roc.fpr[pick];
  return c;
}

OperatingPointStats operating_point_stats(const std::vector<double>& scores,
                                          const std::vector<bool>& positive, double threshold,
                                          uint64_t seed, const BootstrapOptions& bootstrap) {
  check_scores("operating point", scores, positive);
  if (std::isnan(threshold)) throw UsageError("operating point: the threshold is NaN");
  OperatingPointStats s;
  s.threshold = threshold;
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] >= threshold;
    if (positive[i])
      predicted ? ++s.tp : ++s.fn;
    else
      predicted ? ++s.fp : ++s.tn;
  }
  const double level = bootstrap.level;
  s.sensitivity = wilson_interval(s.tp, s.tp + s.fn, level);
  s.specificity = wilson_interval(s.tn, s.tn + s.fp, level);
  s.ppv = wilson_interval(s.tp, s.tp + s.fp, level);
  s.npv = wilson_interval(s.tn, s.tn + s.fn, level);
  s.f1 = f1_of(s.tp, s.fp, s.fn);
  // Counting over the resampled indices directly: no copy of the scores per resample.
  const std::vector<int64_t> strata(positive.begin(), positive.end());
  s.f1_interval = bootstrap_interval(
      strata,
      [&](std::span<const int64_t> idx) {
        int64_t tp = 0, fp = 0, fn = 0;
        for (int64_t i : idx) {
          const bool predicted = scores[static_cast<size_t>(i)] >= threshold;
          if (positive[static_cast<size_t>(i)])
            predicted ? ++tp : ++fn;
          else
            fp += predicted;
        }
        return f1_of(tp, fp, fn);
      },
      seed, bootstrap);
  return s;
}

OperatingPointReport validate_then_test(const std::vector<double>& val_scores,
                                        const std::vector<bool>& val_positive,
                                        const std::vector<double>& test_scores,
                                        const std::vector<bool>& test_positive,
                                        const ThresholdChoice& choice, uint64_t seed,
                                        const BootstrapOptions& bootstrap) {
  OperatingPointReport r;
  r.chosen = choose_threshold(val_scores, val_positive, choice);
  r.test = operating_point_stats(test_scores, test_positive, r.chosen.threshold, seed, bootstrap);
  switch (choice.rule) {
    case ThresholdRule::Youden:
      r.test_achieved = r.test.sensitivity.value + r.test.specificity.value - 1;
      break;
    case ThresholdRule::TargetSensitivity:
      r.test_achieved = r.test.sensitivity.value;
      break;
    case ThresholdRule::TargetSpecificity:
      r.test_achieved = r.test.specificity.value;
      break;
  }
  return r;
}

}  // namespace cxr
