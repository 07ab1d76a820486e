// Temperature scaling: on over-confident logits the fit recovers the inflation, lowers the
// validation NLL, and (sigmoid) leaves the AUROC unchanged; softmax keeps the argmax.
#include "engine/temperature_scaling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/delong.h"
#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

// Labels drawn from sigmoid(true logit); the model reports 3× the true logit (over-confident),
// so the NLL-optimal temperature is near 3.
TEST(TemperatureScaling, SigmoidRecoversInflationLowersNllKeepsAuroc) {
  std::mt19937_64 rng(31);
  std::normal_distribution<double> latent(0, 1.5);
  std::uniform_real_distribution<double> u;
  std::vector<double> val, test;
  std::vector<bool> val_y, test_y;
  for (int i = 0; i < 8000; ++i) {
    const double z = latent(rng);
    const bool y = u(rng) < 1 / (1 + std::exp(-z));
    (i % 2 ? val : test).push_back(3 * z);
    (i % 2 ? val_y : test_y).push_back(y);
  }
  const TemperatureFit fit = fit_temperature_sigmoid(val, val_y);
  std::printf("sigmoid fit: T = %.4f, validation NLL %.5f → %.5f (%lld evaluations)\n",
              fit.temperature, fit.nll_before, fit.nll_after,
              static_cast<long long>(fit.evaluations));
  EXPECT_NEAR(fit.temperature, 3.0, 0.25);
  EXPECT_LT(fit.nll_after, fit.nll_before);
  EXPECT_FALSE(fit.at_bracket_edge);
  EXPECT_NEAR(fit.nll_after, sigmoid_nll(val, val_y, fit.temperature), 1e-15);
  // A minimum: nudging T either way does not lower the NLL.
  EXPECT_LE(fit.nll_after, sigmoid_nll(val, val_y, fit.temperature * 1.01));
  EXPECT_LE(fit.nll_after, sigmoid_nll(val, val_y, fit.temperature / 1.01));
  // Test: better NLL, identical AUROC (z/T is monotone).
  const auto scaled = apply_temperature(test, fit.temperature);
  EXPECT_LT(sigmoid_nll(scaled, test_y), sigmoid_nll(test, test_y));
  EXPECT_EQ(auroc(sigmoid_probabilities(scaled), test_y),
            auroc(sigmoid_probabilities(test), test_y));
  EXPECT_EQ(delong_auroc(scaled, test_y).auc, delong_auroc(test, test_y).auc);
}

TEST(TemperatureScaling, SoftmaxLowersNllAndKeepsTheArgmax) {
  std::mt19937_64 rng(32);
  std::normal_distribution<double> noise;
  std::uniform_real_distribution<double> u;
  const int n = 3000, k = 4;
  std::vector<double> logits;
  std::vector<int64_t> labels;
  for (int i = 0; i < n; ++i) {
    double z[k], sum = 0;
    for (int c = 0; c < k; ++c) sum += std::exp(z[c] = noise(rng));
    double r = u(rng) * sum, acc = 0;
    int64_t y = k - 1;
    for (int c = 0; c < k; ++c)
      if ((acc += std::exp(z[c])) >= r) {
        y = c;
        break;
      }
    for (int c = 0; c < k; ++c) logits.push_back(2.5 * z[c]);  // over-confident by 2.5
    labels.push_back(y);
  }
  const TemperatureFit fit = fit_temperature_softmax(logits, labels, k);
  std::printf("softmax fit: T = %.4f, NLL %.5f → %.5f\n", fit.temperature, fit.nll_before,
              fit.nll_after);
  EXPECT_NEAR(fit.temperature, 2.5, 0.3);
  EXPECT_LT(fit.nll_after, fit.nll_before);
  const auto p0 = softmax_probabilities(logits, k);
  const auto p1 = softmax_probabilities(apply_temperature(logits, fit.temperature), k);
  for (int i = 0; i < n; ++i) {
    const auto row0 = p0.begin() + i * k, row1 = p1.begin() + i * k;
    EXPECT_EQ(std::max_element(row0, row0 + k) - row0, std::max_element(row1, row1 + k) - row1);
  }
}

TEST(TemperatureScaling, SeparableValidationIsFlaggedAtTheBracketEdge) {
  const TemperatureFit fit = fit_temperature_sigmoid({-2, -1, 1, 2}, {false, false, true, true});
  EXPECT_TRUE(fit.at_bracket_edge);
  EXPECT_NEAR(fit.temperature, 0.01, 1e-6);
}

TEST(TemperatureScaling, BadInputIsAUsageError) {
  EXPECT_THROW(fit_temperature_sigmoid({1.0, NAN}, {true, false}), UsageError);
  EXPECT_THROW(fit_temperature_sigmoid({1.0, INFINITY}, {true, false}), UsageError);
  EXPECT_THROW(fit_temperature_softmax({1, 2, 3}, {0, 1}, 2), UsageError);
  EXPECT_THROW(fit_temperature_softmax({1, 2, 3, 4}, {0, 2}, 2), UsageError);
  EXPECT_THROW(apply_temperature({1.0}, 0), UsageError);
  EXPECT_THROW(fit_temperature_sigmoid({}, {}), UsageError);
}

}  // namespace
}  // namespace cxr
