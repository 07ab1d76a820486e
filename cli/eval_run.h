// One evaluation as `cxrtune eval` does it, for the eval command and for `train`'s evaluation of
// data.test at the end of training: the checkpoint scored on DATA through the job library
// (job/checkpoint_eval.h), the statistics of eval_statistics.h, metrics.json and predictions.csv
// written beside each other.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
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
  std::vector<std::string> subgroups;  // --subgroups: keys of cli/eval_subgroups.h (empty: none)
  int64_t subgroup_min_size = 30;      // --subgroup-min-size: smaller groups are listed, not scored
};

// Writes o.out and predictions.csv beside it; returns the metrics.json written.
nlohmann::json run_eval(const EvalOptions& o);

}  // namespace cxr::cli
