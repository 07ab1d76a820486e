// Brier score, 15-bin ECE and reliability bins on hand-worked cases, bin edges as
// scikit-learn's calibration_curve places them, and the multi-class top-label form.
#include "engine/calibration.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"

namespace cxr {
namespace {

// p = {0.1, 0.1, 0.9, 0.9, 0.5}, y = {0, 1, 1, 1, 0}; 15 bins of width 1/15 = 0.0667:
//   0.1 → bin 1 [0.0667, 0.1333): mean p 0.1, observed ½, gap 0.4, 2 samples
//   0.9 → bin 13 [0.8667, 0.9333): mean 0.9, observed 1, gap 0.1, 2 samples
//   0.5 → bin 7 [0.4667, 0.5333): mean 0.5, observed 0, gap 0.5, 1 sample
//   ECE = (2·0.4 + 2·0.1 + 1·0.5)/5 = 0.3
//   Brier = (0.01 + 0.81 + 0.01 + 0.01 + 0.25)/5 = 0.218
TEST(Calibration, HandWorkedEceBrierAndBins) {
  const CalibrationSummary c =
      calibration({0.1, 0.1, 0.9, 0.9, 0.5}, {false, true, true, true, false});
  EXPECT_NEAR(c.ece, 0.3, 1e-15);
  EXPECT_NEAR(c.brier, 0.218, 1e-15);
  EXPECT_EQ(c.binning, "15 equal-width bins");
  ASSERT_EQ(c.bins.size(), 15u);
  EXPECT_EQ(c.bins[1].count, 2);
  EXPECT_NEAR(c.bins[1].mean_predicted, 0.1, 1e-15);
  EXPECT_EQ(c.bins[1].observed_frequency, 0.5);
  EXPECT_EQ(c.bins[13].count, 2);
  EXPECT_EQ(c.bins[13].observed_frequency, 1.0);
  EXPECT_EQ(c.bins[7].count, 1);
  EXPECT_EQ(c.bins[0].count, 0);
  EXPECT_TRUE(std::isnan(c.bins[0].mean_predicted));
  EXPECT_NEAR(c.bins[1].lower, 1.0 / 15, 1e-16);
  EXPECT_EQ(c.bins[14].upper, 1.0);
}

TEST(Calibration, EdgesBelongToTheUpperBinAndOneToTheLast) {
  // numpy: searchsorted(linspace(0, 1, 16)[1:-1], p, side="right").
  const CalibrationSummary c =
      calibration({0.0, 1.0 / 15, 1.0, 14.0 / 15}, {false, false, true, true});
  EXPECT_EQ(c.bins[0].count, 1);
  EXPECT_EQ(c.bins[1].count, 1);
  EXPECT_EQ(c.bins[14].count, 2);
}

TEST(Calibration, PerfectlyCalibratedBinsHaveZeroEce) {
  // Bin 7 (0.5): one of two positive; bin 3 (0.25 → [0.2, 0.2667)): one of four positive.
  const CalibrationSummary c =
      calibration({0.5, 0.5, 0.25, 0.25, 0.25, 0.25}, {true, false, true, false, false, false});
  EXPECT_NEAR(c.ece, 0.0, 1e-15);
}

// Top label of 3 classes: rows (0.7, 0.2, 0.1) label 0 ✓, (0.2, 0.5, 0.3) label 2 ✗,
// (0.1, 0.1, 0.8) label 2 ✓. Confidences 0.7 (bin 10), 0.5 (bin 7), 0.8 (bin 12);
// ECE = (0.3 + 0.5 + 0.2)/3 = 1/3. Brier = (0.09 + 0.04 + 0.01 + 0.04 + 0.25 + 0.49 +
// 0.01 + 0.01 + 0.04)/3 = 0.98/3.
TEST(Calibration, TopLabelMultiClass) {
  const CalibrationSummary c =
      calibration_top_label({0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8}, {0, 2, 2}, 3);
  EXPECT_NEAR(c.ece, 1.0 / 3, 1e-15);
  EXPECT_NEAR(c.brier, 0.98 / 3, 1e-15);
  EXPECT_EQ(c.bins[7].observed_frequency, 0.0);
}

TEST(Calibration, BadProbabilitiesAreAUsageError) {
  EXPECT_THROW(calibration({0.2, 1.2}, {true, false}), UsageError);
  EXPECT_THROW(calibration({0.2, NAN}, {true, false}), UsageError);
  EXPECT_THROW(brier_score({0.2}, {true, false}), UsageError);
  EXPECT_THROW(calibration_top_label({0.5, 0.5}, {3}, 2), UsageError);
  EXPECT_EQ(calibration({}, {}).reason, "no samples");
}

}  // namespace
}  // namespace cxr
