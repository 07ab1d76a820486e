// Confidence intervals for a proportion k/n (sensitivity, specificity, PPV, NPV), by Wilson
// (1927, JASA 22:209), the score interval: it stays inside [0, 1] and keeps its coverage near
// nominal for small n and for p near 0 or 1, where the Wald interval p ± z√(p(1−p)/n) fails
// (Brown, Cai & DasGupta 2001, Statistical Science 16:101).
//   centre = (p̂ + z²/2n) / (1 + z²/n),  half = z/(1 + z²/n) · √(p̂(1−p̂)/n + z²/4n²)
#pragma once
#include <cstdint>
#include <limits>
#include <string>

namespace cxr {

struct Proportion {
  int64_t successes = 0, trials = 0;
  double value = std::numeric_limits<double>::quiet_NaN();  // successes / trials
  double lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN();
  double level = 0.95;
  std::string method = "Wilson score interval";
  std::string reason;  // "" when defined; "no trials" when trials == 0 (value and CI NaN)
  bool defined() const { return reason.empty(); }
};

// Throws UsageError for successes < 0, successes > trials or a level outside (0, 1).
Proportion wilson_interval(int64_t successes, int64_t trials, double level = 0.95);

}  // namespace cxr
