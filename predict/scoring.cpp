#include "predict/scoring.h"

#include <algorithm>
#include <cmath>

namespace cxr {

std::vector<double> probabilities(const float* z, int64_t k, const ScoringRule& rule) {
  const double t = rule.temperature.value_or(1.0);
  std::vector<double> p(static_cast<size_t>(k));
  if (rule.multi_label) {
    for (int64_t c = 0; c < k; ++c) p[static_cast<size_t>(c)] = 1.0 / (1.0 + std::exp(-static_cast<double>(z[c]) / t));
    return p;
  }
  double mx = -INFINITY;
  for (int64_t c = 0; c < k; ++c) mx = std::max(mx, static_cast<double>(z[c]) / t);
  double sum = 0;
  for (int64_t c = 0; c < k; ++c) sum += p[static_cast<size_t>(c)] = std::exp(static_cast<double>(z[c]) / t - mx);
  for (double& v : p) v /= sum;
  return p;
}

std::vector<int64_t> predicted_classes(const std::vector<double>& probs, const ScoringRule& rule) {
  if (!rule.multi_label) return {top_class(probs)};
  std::vector<int64_t> out;
  for (size_t c = 0; c < probs.size(); ++c)
    if (probs[c] >= (c < rule.thresholds.size() ? rule.thresholds[c] : 0.5)) out.push_back(static_cast<int64_t>(c));
  return out;
}

int64_t top_class(const std::vector<double>& probs) {
  return static_cast<int64_t>(std::max_element(probs.begin(), probs.end()) - probs.begin());
}

}  // namespace cxr
