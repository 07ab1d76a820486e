// Checks shared by the statistics files (delong, bootstrap, calibration, operating_point,
// precision_recall, subgroups): what a vector of scores and labels must satisfy before any
// statistic is computed. Every failure is a UsageError naming `what` (the caller's function).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

// Equal lengths and no NaN score (a NaN cannot be ranked; sorting it would break std::sort's
// ordering contract). ±inf scores are allowed: they rank.
void check_scores(const std::string& what, const std::vector<double>& scores,
                  const std::vector<bool>& positive);

// As check_scores, and every score is a probability in [0, 1].
void check_probabilities(const std::string& what, const std::vector<double>& probs,
                         const std::vector<bool>& positive);

int64_t count_positives(const std::vector<bool>& positive);

// Why a two-class statistic is undefined on this set ("no positives", "no negatives"), or ""
// when both classes are present.
std::string one_class_reason(int64_t n_pos, int64_t n_neg);

// Column `k` of a row-major [N, K] matrix.
std::vector<double> column(const std::vector<double>& matrix, int64_t n_cols, int64_t k);

}  // namespace cxr
