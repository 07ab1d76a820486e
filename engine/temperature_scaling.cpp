#include "engine/temperature_scaling.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/errors.h"

namespace cxr {
namespace {

constexpr double kMinT = 0.01, kMaxT = 100, kTolLogT = 1e-10;

void check_logits(const std::string& what, const std::vector<double>& logits) {
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isfinite(logits[i]))
      throw UsageError(what + ": logit " + std::to_string(i) + " is not finite");
}

void check_temperature(double t) {
  if (!(t > 0) || !std::isfinite(t))
    throw UsageError("temperature must be finite and > 0, not " + std::to_string(t));
}

void check_labels(const std::string& what, const std::vector<double>& logits,
                  const std::vector<int64_t>& labels, int64_t k) {
  if (k <= 0 || logits.size() != labels.size() * static_cast<size_t>(k))
    throw UsageError(what + ": " + std::to_string(logits.size()) + " logits for " +
                     std::to_string(labels.size()) + " samples x " + std::to_string(k) +
                     " classes");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= k)
      throw UsageError(what + ": label " + std::to_string(labels[i]) + " of sample " +
                       std::to_string(i) + " is not in [0, " + std::to_string(k) + ")");
}

// log(1 + e^s) without overflow for large s or loss of precision for very negative s.
double softplus(double s) { return std::max(s, 0.0) + std::log1p(std::exp(-std::fabs(s))); }

// Golden-section minimisation of f over u = log T in [log kMinT, log kMaxT].
TemperatureFit golden_section(const std::function<double(double)>& nll_at_t) {
  TemperatureFit fit;
  fit.nll_before = nll_at_t(1.0);
  const double inv_phi = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(kMinT), b = std::log(kMaxT);
  double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
  double fc = nll_at_t(std::exp(c)), fd = nll_at_t(std::exp(d));
  fit.evaluations = 3;
  while (b - a > kTolLogT) {
    if (fc <= fd) {
      b = d, d = c, fd = fc;
      c = b - inv_phi * (b - a);
      fc = nll_at_t(std::exp(c));
    } else {
      a = c, c = d, fc = fd;
      d = a + inv_phi * (b - a);
      fd = nll_at_t(std::exp(d));
    }
    ++fit.evaluations;
  }
  const double u = 0.5 * (a + b);
  fit.temperature = std::exp(u);
  fit.nll_after = nll_at_t(fit.temperature);
  if (fit.nll_after > fit.nll_before) {  // only possible within rounding of a flat NLL
    fit.temperature = 1;
    fit.nll_after = fit.nll_before;
  }
  fit.at_bracket_edge = u - std::log(kMinT) < 1e-6 || std::log(kMaxT) - u < 1e-6;
  return fit;
}

}  // namespace

double sigmoid_nll(const std::vector<double>& logits, const std::vector<bool>& positive,
                   double temperature) {
  check_temperature(temperature);
  if (logits.size() != positive.size())
    throw UsageError("sigmoid NLL: " + std::to_string(logits.size()) + " logits for " +
                     std::to_string(positive.size()) + " labels");
  check_logits("sigmoid NLL", logits);
  if (logits.empty()) throw UsageError("sigmoid NLL: no samples");
  double s = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double z = logits[i] / temperature;
    s += softplus(z) - (positive[i] ? z : 0.0);
  }
  return s / static_cast<double>(logits.size());
}

double softmax_nll(const std::vector<double>& logits, const std::vector<int64_t>& labels,
                   int64_t n_classes, double temperature) {
  check_temperature(temperature);
  check_labels("softmax NLL", logits, labels, n_classes);
  check_logits("softmax NLL", logits);
  if (labels.empty()) throw UsageError("softmax NLL: no samples");
  const auto k = static_cast<size_t>(n_classes);
  double s = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double* row = logits.data() + i * k;
    const double mx = *std::max_element(row, row + k) / temperature;
    double sum = 0;
    for (size_t c = 0; c < k; ++c) sum += std::exp(row[c] / temperature - mx);
    s += mx + std::log(sum) - row[static_cast<size_t>(labels[i])] / temperature;
  }
  return s / static_cast<double>(labels.size());
}

TemperatureFit fit_temperature_sigmoid(const std::vector<double>& logits,
                                       const std::vector<bool>& positive) {
  sigmoid_nll(logits, positive, 1.0);  // validates once, before the search
  return golden_section([&](double t) { return sigmoid_nll(logits, positive, t); });
}

TemperatureFit fit_temperature_softmax(const std::vector<double>& logits,
                                       const std::vector<int64_t>& labels, int64_t n_classes) {
  softmax_nll(logits, labels, n_classes, 1.0);
  return golden_section([&](double t) { return softmax_nll(logits, labels, n_classes, t); });
}

std::vector<double> apply_temperature(const std::vector<double>& logits, double temperature) {
  check_temperature(temperature);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] / temperature;
  return out;
}

std::vector<double> sigmoid_probabilities(const std::vector<double>& logits) {
  std::vector<double> p(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    p[i] = logits[i] >= 0 ? 1 / (1 + std::exp(-logits[i]))
                          : std::exp(logits[i]) / (1 + std::exp(logits[i]));
  return p;
}

std::vector<double> softmax_probabilities(const std::vector<double>& logits, int64_t n_classes) {
  if (n_classes <= 0 || logits.size() % static_cast<size_t>(n_classes))
    throw UsageError("softmax: " + std::to_string(logits.size()) + " logits in rows of " +
                     std::to_string(n_classes));
  const auto k = static_cast<size_t>(n_classes);
  std::vector<double> p(logits.size());
  for (size_t i = 0; i < logits.size(); i += k) {
    const double mx = *std::max_element(logits.begin() + static_cast<std::ptrdiff_t>(i),
                                        logits.begin() + static_cast<std::ptrdiff_t>(i + k));
    double sum = 0;
    for (size_t c = 0; c < k; ++c) sum += p[i + c] = std::exp(logits[i + c] - mx);
    for (size_t c = 0; c < k; ++c) p[i + c] /= sum;
  }
  return p;
}

}  // namespace cxr
