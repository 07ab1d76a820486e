// The statistics of `cxrtune eval` that a paper can cite, added to metrics.json beside the point
// estimates (metrics_json.h): DeLong AUROC intervals per class and for the macro (binary: the
// positive class's) AUROC, average precision and PR curve points per class, Brier score, ECE and
// the reliability bins, an operating point chosen on the run's validation predictions and applied
// unchanged to the evaluated data (Wilson intervals; F1 by bootstrap), and stratified percentile
// bootstrap intervals. Keys are listed in README.md ("metrics.json").
// Which scores: class k's probability against "label is k" (one-vs-rest; multi-label: label k).
// Binary single-label sets report the operating point and calibration of the positive class
// (the second); multi-class calibration is top-label (Guo et al.); multi-label pools every label.
// Every interval is 95 %. Undefined values are null, with a "*_note" saying why.
// Masked labels (multi-label data.uncertain: ignore, a target below 0): every per-class figure
// (DeLong interval, average precision, PR curve, bootstrap, operating point) and the calibration
// use only the samples whose label of that class is not masked; the macro DeLong covariance sums
// over the images unmasked in both classes (engine/auroc_per_class.h) and the macro bootstrap
// resamples images, scoring each class on the drawn images that count for it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "job/checkpoint_eval.h"
#include "engine/operating_point_selection.h"

namespace cxr::cli {

struct StatsOptions {
  ThresholdChoice operating_point;  // Youden by default
  int64_t bootstrap = 2000;         // resamples; 0 = no bootstrap
  uint64_t seed = 0;
};

// "youden", "sensitivity=0.95" or "specificity=0.9"; anything else is a UsageError.
ThresholdChoice parse_operating_point(const std::string& spec);

// Adds the statistics to `metrics` (which already holds per_class from per_class_json). `val`:
// the validation predictions the operating point is chosen on; without them "operating_point" is
// null and "operating_point_note" says why.
void add_statistics(nlohmann::json& metrics, const ScoredSet& test, const std::optional<ScoredSet>& val,
                    const StatsOptions& options);

// Scores of class k and its positives ("label is k"), one per sample (index-aligned with the
// set: a masked target, below 0, reads as a negative here).
std::vector<double> class_scores(const ScoredSet& s, size_t k);
std::vector<bool> class_positives(const ScoredSet& s, size_t k);
// The same without the samples whose target of class k is masked (data.uncertain: ignore): what
// a threshold is chosen on, so that an ignored label never counts as a negative there.
struct ClassColumn {
  std::vector<double> scores;
  std::vector<bool> positives;
};
ClassColumn unmasked_class(const ScoredSet& s, size_t k);
// The classes whose operating point is reported: the positive (second) class of a binary
// single-label set, every class otherwise.
std::vector<size_t> reported_classes(const ScoredSet& s);

}  // namespace cxr::cli
