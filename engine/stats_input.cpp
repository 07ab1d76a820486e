#include "engine/stats_input.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace cxr {

void check_scores(const std::string& what, const std::vector<double>& scores,
                  const std::vector<bool>& positive) {
  if (scores.size() != positive.size())
    throw UsageError(what + ": " + std::to_string(scores.size()) + " scores for " +
                     std::to_string(positive.size()) + " labels");
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i])) throw UsageError(what + ": score " + std::to_string(i) + " is NaN");
}

void check_probabilities(const std::string& what, const std::vector<double>& probs,
                         const std::vector<bool>& positive) {
  check_scores(what, probs, positive);
  for (size_t i = 0; i < probs.size(); ++i)
    if (probs[i] < 0 || probs[i] > 1)
      throw UsageError(what + ": probability " + std::to_string(i) + " = " +
                       std::to_string(probs[i]) + " is not in [0, 1]");
}

int64_t count_positives(const std::vector<bool>& positive) {
  return std::count(positive.begin(), positive.end(), true);
}

std::string one_class_reason(int64_t n_pos, int64_t n_neg) {
  if (n_pos == 0 && n_neg == 0) return "no samples";
  if (n_pos == 0) return "no positives";
  if (n_neg == 0) return "no negatives";
  return "";
}

std::vector<double> column(const std::vector<double>& matrix, int64_t n_cols, int64_t k) {
  if (n_cols <= 0 || matrix.size() % static_cast<size_t>(n_cols) != 0 || k < 0 || k >= n_cols)
    throw UsageError("column " + std::to_string(k) + " of a matrix of " +
                     std::to_string(matrix.size()) + " values in " + std::to_string(n_cols) +
                     " columns");
  const size_t n = matrix.size() / static_cast<size_t>(n_cols);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = matrix[i * static_cast<size_t>(n_cols) + static_cast<size_t>(k)];
  return out;
}

}  // namespace cxr
