// Stratified percentile bootstrap (Efron & Tibshirani 1993, ch. 13) for any statistic of a
// labelled sample: F1 at an operating point, average precision, ΔAUROC between two models,
// a macro metric. Each resample draws, with replacement and separately within each stratum
// (positives and negatives, or each class), as many samples as the stratum holds, so every
// resample keeps the class counts and a two-class metric is always defined on it.
//
// Randomness: one std::mt19937_64 seeded by the caller's `seed` (no hidden global state); the
// same seed, data and options give bit-identical results on every platform (indices come from
// the engine's raw 64-bit output by Lemire's multiply-shift, not from the implementation-defined
// std::uniform_int_distribution).
//
// Interval: the (1−level)/2 and (1+level)/2 quantiles of the resampled statistics, linearly
// interpolated between order statistics (numpy.percentile's default, Hyndman & Fan type 7).
// Resamples on which the statistic is NaN are left out and counted in `undefined`.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace cxr {

struct BootstrapOptions {
  int64_t resamples = 2000;
  double level = 0.95;
};

struct BootstrapInterval {
  double estimate = std::numeric_limits<double>::quiet_NaN();  // the statistic on the full set
  double lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();  // SD of the resampled statistics
  double level = 0.95;
  int64_t resamples = 0;  // requested
  int64_t undefined = 0;  // resamples whose statistic was NaN (left out)
  uint64_t seed = 0;
  std::string method = "stratified percentile bootstrap";
  std::string reason;  // "" when defined
  bool defined() const { return reason.empty(); }
};

// A statistic of the samples at `indices` (indices into the caller's arrays; repeats allowed).
using IndexStatistic = std::function<double(std::span<const int64_t> indices)>;
// A statistic of scores and labels, e.g. [](auto& s, auto& y) { return auroc(s, y); }.
using ScoreStatistic =
    std::function<double(const std::vector<double>& scores, const std::vector<bool>& positive)>;

// The general form: `strata[i]` is sample i's stratum (any int64 value: a class index, 0/1).
// Throws UsageError for resamples < 1 or a bad level.
BootstrapInterval bootstrap_interval(const std::vector<int64_t>& strata,
                                     const IndexStatistic& statistic, uint64_t seed,
                                     const BootstrapOptions& options = {});

// Scores and binary labels, stratified by label. NaN scores are a UsageError.
BootstrapInterval bootstrap_interval(const std::vector<double>& scores,
                                     const std::vector<bool>& positive,
                                     const ScoreStatistic& statistic, uint64_t seed,
                                     const BootstrapOptions& options = {});

// The type-7 quantile of `sorted` (ascending, non-empty) at q in [0, 1].
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace cxr
