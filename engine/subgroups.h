// Metrics per subgroup (sex, age band, site, scanner, view): the samples split by a key, each
// group scored on its own. A group with fewer than `min_size` samples (default 30) is listed
// with status "too small" and not scored — a metric on a handful of images is noise that reads
// like a finding. Groups come out sorted by key.
// Age: 20-year bands, "0-19", "20-39", "40-59", "60-79", then "80-89" and one band "90+"
// (HIPAA Safe Harbor folds every age of 90 and over into one category; the 80 band stops at
// 89 so that band boundaries stay at multiples of 10). Fractional ages fold down (19.9 → "0-19").
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/bootstrap.h"

namespace cxr {

constexpr int64_t kMinSubgroupSize = 30;

struct Subgroup {
  std::string key;
  std::vector<int64_t> indices;  // into the caller's arrays, ascending
  int64_t positives = 0, negatives = 0;
  std::string status;  // "scored" or "too small"
  bool scored() const { return status == "scored"; }
};

// Throws UsageError when keys and labels differ in length or min_size < 1.
std::vector<Subgroup> split_subgroups(const std::vector<std::string>& keys,
                                      const std::vector<bool>& positive,
                                      int64_t min_size = kMinSubgroupSize);

struct SubgroupValue {
  Subgroup group;
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN when "too small"
};

// `metric` (e.g. auroc) on each group large enough.
std::vector<SubgroupValue> subgroup_metric(const std::vector<std::string>& keys,
                                           const std::vector<double>& scores,
                                           const std::vector<bool>& positive,
                                           const ScoreStatistic& metric,
                                           int64_t min_size = kMinSubgroupSize);

// The band of one age in years; UsageError for NaN or negative ages.
std::string age_band(double age_years);
std::vector<std::string> age_bands(const std::vector<double>& ages_years);

}  // namespace cxr
