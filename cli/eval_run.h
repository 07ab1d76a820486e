// One evaluation as `cxrtune eval` does it, for the eval command and for `train`'s evaluation of
// data.test at the end of training: the checkpoint scored on DATA through the job library
// (job/checkpoint_eval.h), the statistics of eval_statistics.h, metrics.json and predictions.csv
// written beside each other.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "job/checkpoint_eval.h"

namespace cxr::cli {

struct EvalOptions {
  CheckpointEvalOptions job;
  std::string out = "metrics.json", operating_point = "youden", format = "table";
  int64_t bootstrap = 2000;
  uint64_t seed = 0;
  bool calibrate = false;  // --calibrate: fit a temperature on the recipe's validation split first
  // --subgroups: keys of cli/eval_subgroups.h; empty: the checkpoint recipe's eval.subgroups
  // (train's evaluation of data.test leaves it empty, so the run's recipe decides there too).
  std::vector<std::string> subgroups;
  // --subgroup-min-size: smaller groups are listed, not scored; unset: the recipe's
  // eval.subgroup_min_size (default 30).
  std::optional<int64_t> subgroup_min_size;
};

// Writes o.out and predictions.csv beside it; returns the metrics.json written.
nlohmann::json run_eval(const EvalOptions& o);

}  // namespace cxr::cli
