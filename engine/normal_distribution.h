// The standard normal distribution, for confidence intervals and z-tests of the statistics in
// delong.h, binomial_intervals.h and bootstrap.h. Pure functions, double precision throughout.
#pragma once

namespace cxr {

// Φ(x) = P(Z <= x), computed as erfc(-x/√2)/2 so that the lower tail keeps full relative
// precision (Φ(-30) ≈ 4.9e-198, not 0).
double normal_cdf(double x);

// Two-sided p-value of a z statistic, P(|Z| >= |z|) = erfc(|z|/√2). Written with erfc, never
// as 1 − Φ, so that p stays accurate for large |z| (z = 10 → 1.5e-23, not 0). NaN stays NaN.
double two_sided_p_value(double z);

// Φ⁻¹(p) for 0 < p < 1 (±inf at 0 and 1). Throws UsageError for p outside [0, 1] or NaN.
double normal_quantile(double p);

// The z of a two-sided interval at confidence `level` (0.95 → 1.959963984540054).
// Throws UsageError unless 0 < level < 1.
double z_for_level(double level);

}  // namespace cxr
