#include "engine/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/errors.h"
#include "engine/normal_distribution.h"
#include "engine/stats_input.h"

namespace cxr {
namespace {

// Uniform in [0, n) from one 64-bit draw (Lemire 2019, without the rejection step: the bias is
// n/2^64, below 1e-15 for any sample size here).
int64_t draw_below(std::mt19937_64& rng, int64_t n) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(n)) >>
                              64);
}

}  // namespace

double quantile_sorted(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

BootstrapInterval bootstrap_interval(const std::vector<int64_t>& strata,
                                     const IndexStatistic& statistic, uint64_t seed,
                                     const BootstrapOptions& options) {
  if (options.resamples < 1)
    throw UsageError("bootstrap: resamples must be at least 1, not " +
                     std::to_string(options.resamples));
  z_for_level(options.level);
  BootstrapInterval out;
  out.level = options.level;
  out.resamples = options.resamples;
  out.seed = seed;
  const auto n = static_cast<int64_t>(strata.size());
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  out.estimate = statistic(all);
  if (n == 0) {
    out.reason = "no samples";
    return out;
  }
  // Members of each stratum, strata in ascending value so the draw order does not depend on
  // the order the samples came in beyond their position within a stratum.
  std::map<int64_t, std::vector<int64_t>> groups;
  for (int64_t i = 0; i < n; ++i) groups[strata[static_cast<size_t>(i)]].push_back(i);

  std::mt19937_64 rng(seed);
  std::vector<double> values;
  values.reserve(static_cast<size_t>(options.resamples));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t r = 0; r < options.resamples; ++r) {
    size_t at = 0;
    for (const auto& [stratum, members] : groups) {
      const auto size = static_cast<int64_t>(members.size());
      for (int64_t k = 0; k < size; ++k)
        idx[at++] = members[static_cast<size_t>(draw_below(rng, size))];
    }
    const double v = statistic(idx);
    if (std::isnan(v))
      ++out.undefined;
    else
      values.push_back(v);
  }
  if (values.empty()) {
    out.reason = "the statistic is NaN on every resample";
    return out;
  }
  std::sort(values.begin(), values.end());
  const double alpha = 1 - options.level;
  out.lower = quantile_sorted(values, alpha / 2);
  out.upper = quantile_sorted(values, 1 - alpha / 2);
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  out.se = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
  return out;
}

BootstrapInterval bootstrap_interval(const std::vector<double>& scores,
                                     const std::vector<bool>& positive,
                                     const ScoreStatistic& statistic, uint64_t seed,
                                     const BootstrapOptions& options) {
  check_scores("bootstrap", scores, positive);
  std::vector<int64_t> strata(positive.begin(), positive.end());
  std::vector<double> s;
  std::vector<bool> y;
  const IndexStatistic by_index = [&](std::span<const int64_t> idx) {
    s.resize(idx.size());
    y.resize(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      s[k] = scores[static_cast<size_t>(idx[k])];
      y[k] = positive[static_cast<size_t>(idx[k])];
    }
    return statistic(s, y);
  };
  return bootstrap_interval(strata, by_index, seed, options);
}

}  // namespace cxr
