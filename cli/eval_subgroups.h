// metrics.json "subgroups" of `cxrtune eval --subgroups KEY,...` (io/subgroup_attributes.h for
// the keys and their values: DICOM tags, a manifest's columns, an official layout's recorded
// attributes): per key, every value's group with its image count, positives and
// negatives of each reported class, and, for a group of at least `min_size` images, the AUROC
// of each reported class with its DeLong 95 % CI (a class without positives or negatives in the
// group: null with a note). Smaller groups are listed with status "too small" and not scored.
// Reported classes as eval_statistics.h: the positive class of a binary set, else every class;
// a masked multi-label target counts for neither side of its label.
//   "subgroups": {"min_size": 30, "keys": {"sex": {"source": "...", "groups": [{"value": "F",
//     "count": n, "status": "scored" | "too small", "per_class": {"<class>": {"positives": p,
//     "negatives": q, "auroc": a, "auroc_ci95": [low, high]}}}]}}}
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "job/checkpoint_eval.h"

namespace cxr::cli {

// `keys` as given to --subgroups (UsageError for a refused key, before anything is scored).
void check_subgroup_keys(const std::vector<std::string>& keys);

// `data`: the scored data set (job/checkpoint_eval.h: a layout's samples carry their subgroup
// attributes; ids are relative to data.root); `manifest`: the CSV manifest it came from, for
// column keys, else empty.
nlohmann::json subgroups_json(const ScoredSet& test, const Dataset& data, const std::string& manifest,
                              const std::vector<std::string>& keys, int64_t min_size);

}  // namespace cxr::cli
