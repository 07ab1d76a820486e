#include "engine/normal_distribution.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/errors.h"

namespace cxr {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double two_sided_p_value(double z) {
  if (std::isnan(z)) return z;
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

double normal_quantile(double p) {
  if (!(p >= 0 && p <= 1))
    throw UsageError("normal_quantile: p = " + std::to_string(p) + " is not in [0, 1]");
  if (p == 0) return -std::numeric_limits<double>::infinity();
  if (p == 1) return std::numeric_limits<double>::infinity();
  // Acklam's rational approximation (relative error 1.15e-9), then one Halley step on
  // Φ(x) − p, which takes it to full double precision (Acklam's own refinement note).
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  double x;
  if (p < p_low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - p_low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // Halley step on e = Φ(x) − p; above the median e is taken as (1 − p) − Φ(−x), the same
  // number computed in the upper tail, so that it is not lost to rounding near p = 1.
  const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
  const double e = p < 0.5 ? normal_cdf(x) - p : (1 - p) - normal_cdf(-x);
  const double u = e / pdf;
  return x - u / (1 + x * u / 2);
}

double z_for_level(double level) {
  if (!(level > 0 && level < 1))
    throw UsageError("confidence level " + std::to_string(level) + " is not in (0, 1)");
  return normal_quantile(0.5 + level / 2);
}

}  // namespace cxr
