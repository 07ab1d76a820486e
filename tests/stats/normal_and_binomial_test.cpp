// Normal quantiles and tails against 30-digit values (mpmath), and Wilson intervals by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/binomial_intervals.h"
#include "core/errors.h"
#include "engine/normal_distribution.h"

namespace cxr {
namespace {

TEST(Normal, QuantilesToFullPrecision) {
  // mpmath: sqrt(2)·erfinv(2p − 1), 30 digits.
  EXPECT_NEAR(normal_quantile(0.975), 1.95996398454005423552, 4e-16);
  EXPECT_NEAR(normal_quantile(0.995), 2.57582930354890076098, 4e-16);
  EXPECT_NEAR(normal_quantile(1e-10), -6.36134090240405620470, 2e-15);
  EXPECT_NEAR(normal_quantile(0.999999), 4.75342430882289894819, 1e-11);  // 1 − p has 1e-17 error
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_NEAR(z_for_level(0.95), 1.95996398454005423552, 4e-16);
  EXPECT_THROW(normal_quantile(1.5), UsageError);
  EXPECT_THROW(z_for_level(1.0), UsageError);
  EXPECT_THROW(z_for_level(NAN), UsageError);
}

TEST(Normal, TwoSidedPValueKeepsTailPrecision) {
  // 2Φ(−|z|) = erfc(|z|/√2); with 1 − Φ these would be 0.
  EXPECT_NEAR(two_sided_p_value(10) / 1.52397060483210521319e-23, 1, 1e-13);
  EXPECT_NEAR(two_sided_p_value(-30) / 9.81342785429637411907e-198, 1, 1e-12);
  EXPECT_EQ(two_sided_p_value(0), 1.0);
  EXPECT_TRUE(std::isnan(two_sided_p_value(NAN)));
  EXPECT_EQ(two_sided_p_value(INFINITY), 0.0);
}

// 8/10 by hand: p̂ = 0.8, z² = 3.841459; 1 + z²/n = 1.3841459;
// centre = (0.8 + 0.1920729)/1.3841459 = 0.7167401;
// half = 1.959964/1.3841459 · √(0.016 + 0.0096036) = 1.4160092 · 0.1600114 = 0.2265777;
// [0.4901625, 0.9433178] (statsmodels proportion_confint(8, 10, method="wilson") prints the same).
TEST(Wilson, HandWorkedCases) {
  const Proportion p = wilson_interval(8, 10);
  EXPECT_EQ(p.value, 0.8);
  EXPECT_NEAR(p.lower, 0.490162471536641703, 1e-15);
  EXPECT_NEAR(p.upper, 0.943317848545624745, 1e-15);
  // 0/10: the lower bound is 0 and the upper z²/(n + z²) = 3.841459/13.841459.
  const Proportion zero = wilson_interval(0, 10);
  EXPECT_EQ(zero.lower, 0.0);
  EXPECT_NEAR(zero.upper, 0.277532799862889253, 1e-15);
  // 10/10 mirrors it.
  const Proportion all = wilson_interval(10, 10);
  EXPECT_EQ(all.upper, 1.0);
  EXPECT_NEAR(all.lower, 1 - 0.277532799862889253, 1e-15);
}

TEST(Wilson, NoTrialsAndBadCounts) {
  const Proportion p = wilson_interval(0, 0);
  EXPECT_FALSE(p.defined());
  EXPECT_EQ(p.reason, "no trials");
  EXPECT_TRUE(std::isnan(p.value));
  EXPECT_THROW(wilson_interval(3, 2), UsageError);
  EXPECT_THROW(wilson_interval(-1, 2), UsageError);
}

}  // namespace
}  // namespace cxr
