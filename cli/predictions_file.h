// Reading back the predictions.csv that `cxrtune eval` writes (header "path", "label" or
// "labels", then "p_<class>" per class; multi-label labels joined by ';'; when some label is
// masked, an "ignored" column after the labels names them, read back as targets of -1), for
// `cxrtune compare`.
// FILE may be the predictions.csv or the metrics.json beside it. A row whose label is not a
// class, a probability that is not a number, or a repeated path → UsageError naming FILE:LINE.
#pragma once
#include <string>

#include "job/checkpoint_eval.h"

namespace cxr::cli {

ScoredSet read_predictions_file(const std::string& file);

// `b` reordered to `a`'s sample ids; UsageError (naming both) unless both hold the same classes,
// the same ids and the same labels for each id.
ScoredSet match_samples(const ScoredSet& a, const ScoredSet& b, const std::string& name_a, const std::string& name_b);

}  // namespace cxr::cli
