// The stratified bootstrap: reproducible from its seed, keeps class counts in every resample,
// percentiles as numpy's default, NaN statistics counted, bad options refused.
#include "engine/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/delong.h"
#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

const std::vector<double> kScores = {0.9, 0.8, 0.7, 0.65, 0.6, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1, 0.05};
const std::vector<bool> kLabels = {true, true,  false, true, true,  false,
                                   true, false, false, true, false, false};

double auroc_stat(const std::vector<double>& s, const std::vector<bool>& y) { return auroc(s, y); }

TEST(Bootstrap, SameSeedSameResultOtherSeedOtherResult) {
  const BootstrapInterval a = bootstrap_interval(kScores, kLabels, auroc_stat, 42);
  const BootstrapInterval b = bootstrap_interval(kScores, kLabels, auroc_stat, 42);
  const BootstrapInterval c = bootstrap_interval(kScores, kLabels, auroc_stat, 43);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  EXPECT_EQ(a.se, b.se);
  EXPECT_NE(a.se, c.se);
  EXPECT_EQ(a.resamples, 2000);  // the default
  EXPECT_EQ(a.seed, 42u);
  EXPECT_DOUBLE_EQ(a.estimate, auroc(kScores, kLabels));
  EXPECT_LE(a.lower, a.estimate);
  EXPECT_GE(a.upper, a.estimate);
  EXPECT_EQ(a.undefined, 0);  // stratified: both classes in every resample
}

TEST(Bootstrap, EveryResampleKeepsTheClassCounts) {
  const std::vector<int64_t> strata = {0, 0, 1, 2, 2, 2, 1, 0};
  int64_t calls = 0;
  const BootstrapInterval b = bootstrap_interval(strata,
                                                 [&](std::span<const int64_t> idx) {
                                                   ++calls;
                                                   int64_t count[3] = {0, 0, 0};
                                                   for (int64_t i : idx)
                                                     ++count[strata[static_cast<size_t>(i)]];
                                                   EXPECT_EQ(count[0], 3);
                                                   EXPECT_EQ(count[1], 2);
                                                   EXPECT_EQ(count[2], 3);
                                                   return static_cast<double>(idx[0]);
                                                 },
                                                 7, {.resamples = 300});
  EXPECT_EQ(calls, 301);  // the full set once, then each resample
  EXPECT_TRUE(b.defined());
}

TEST(Bootstrap, QuantilesAreNumpyType7) {
  // numpy.percentile([1, 2, 3, 4], [25, 50, 97.5]) = 1.75, 2.5, 3.925.
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.975), 3.925);
  EXPECT_DOUBLE_EQ(quantile_sorted({5}, 0.3), 5);
}

TEST(Bootstrap, NaNResamplesAreCountedAndLeftOut) {
  const std::vector<int64_t> strata(20, 0);
  int64_t r = 0;
  const BootstrapInterval b = bootstrap_interval(
      strata, [&](std::span<const int64_t>) { return r++ % 2 ? NAN : 1.0; }, 1, {.resamples = 100});
  EXPECT_EQ(b.undefined, 50);
  EXPECT_EQ(b.lower, 1.0);
  const BootstrapInterval none = bootstrap_interval(
      strata, [](std::span<const int64_t>) { return NAN; }, 1, {.resamples = 10});
  EXPECT_FALSE(none.defined());
}

// The index form carries paired comparisons (`compare`): ΔAUROC of two models resampled
// together. Its bootstrap SE agrees with the paired DeLong SE (both estimate the same spread).
TEST(Bootstrap, PairedDeltaAurocSeAgreesWithDelong) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> noise;
  std::vector<double> a, b;
  std::vector<bool> y;
  for (int i = 0; i < 300; ++i) {
    y.push_back(i % 3 == 0);
    const double shared = noise(rng);
    a.push_back(shared + noise(rng) + (y.back() ? 1.5 : 0.0));
    b.push_back(shared + noise(rng) + (y.back() ? 1.0 : 0.0));
  }
  const std::vector<int64_t> strata(y.begin(), y.end());
  std::vector<double> sa, sb;
  std::vector<bool> sy;
  const BootstrapInterval boot = bootstrap_interval(
      strata,
      [&](std::span<const int64_t> idx) {
        sa.clear(), sb.clear(), sy.clear();
        for (int64_t i : idx) {
          sa.push_back(a[static_cast<size_t>(i)]);
          sb.push_back(b[static_cast<size_t>(i)]);
          sy.push_back(y[static_cast<size_t>(i)]);
        }
        return auroc(sa, sy) - auroc(sb, sy);
      },
      21);
  const AurocDifference d = delong_paired_test(a, b, y);
  std::printf("paired ΔAUROC %.4f: bootstrap SE %.4f, DeLong SE %.4f\n", d.delta, boot.se, d.se);
  EXPECT_NEAR(boot.estimate, d.delta, 1e-15);
  EXPECT_NEAR(boot.se / d.se, 1.0, 0.1);
}

TEST(Bootstrap, BadInputIsAUsageError) {
  EXPECT_THROW(bootstrap_interval(kScores, kLabels, auroc_stat, 1, {.resamples = 0}), UsageError);
  EXPECT_THROW(bootstrap_interval(kScores, kLabels, auroc_stat, 1, {.resamples = 10, .level = 2}),
               UsageError);
  EXPECT_THROW(bootstrap_interval({0.1, NAN}, {true, false}, auroc_stat, 1), UsageError);
}

}  // namespace
}  // namespace cxr
