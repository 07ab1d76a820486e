#include "engine/binomial_intervals.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "engine/normal_distribution.h"

namespace cxr {

Proportion wilson_interval(int64_t successes, int64_t trials, double level) {
  if (successes < 0 || trials < 0 || successes > trials)
    throw UsageError("Wilson interval: " + std::to_string(successes) + " successes in " +
                     std::to_string(trials) + " trials");
  const double z = z_for_level(level);
  Proportion p;
  p.successes = successes;
  p.trials = trials;
  p.level = level;
  if (trials == 0) {
    p.reason = "no trials";
    return p;
  }
  const auto n = static_cast<double>(trials);
  const double ph = static_cast<double>(successes) / n, z2 = z * z;
  const double denom = 1 + z2 / n;
  const double centre = (ph + z2 / (2 * n)) / denom;
  const double half = z / denom * std::sqrt(ph * (1 - ph) / n + z2 / (4 * n * n));
  p.value = ph;
  // At p̂ = 0 (or 1) the bound is 0 (or 1) exactly in real arithmetic; the clamp removes the
  // rounding that would put it a few ulps outside.
  p.lower = successes == 0 ? 0.0 : std::clamp(centre - half, 0.0, 1.0);
  p.upper = successes == trials ? 1.0 : std::clamp(centre + half, 0.0, 1.0);
  return p;
}

}  // namespace cxr
