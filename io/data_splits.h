// A run's data resolved into its three splits, the one place that decides where train,
// validation and test images come from (recipe keys data.train, data.val, data.test,
// data.val_split):
//   - data.train a CSV manifest (path ends in .csv): the manifest's split column decides; rows
//     with `split: test` become the test split (data.test must then be null: two test sets
//     would be ambiguous). Without a split column, validation is a seeded patient-level
//     fraction (val_split, 0.1 when 0) and there is no test split unless data.test names one.
//   - data.train a folder with val_split > 0 (or data.val null): validation is a seeded,
//     stratified fraction of it.
//   - otherwise data.train and data.val are folder-per-class roots with the same classes.
//   data.test, when given, is a folder-per-class root with the training classes.
// Paths are used as given: relative paths are relative to the working directory (a manifest's
// `path` column is relative to the manifest's folder). Failure: UsageError naming the recipe
// key or file and the reason.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "io/dataset.h"

namespace cxr {

struct DataSources {
  std::string train;
  std::optional<std::string> val, test;
  double val_split = 0;
  uint64_t seed = 0;
};

struct DataSplits {
  Dataset train, val;
  std::optional<Dataset> test;  // empty when the recipe names no test data
};

DataSplits resolve_data_splits(const DataSources& sources);

// Whether a data path names a CSV manifest rather than a folder (by its .csv extension).
bool is_manifest_path(const std::string& path);

// The test images of a folder-per-class root, or of a manifest's `split: test` rows
// (UsageError when it has none). What `cxrtune eval --data` reads.
Dataset read_test_data(const std::string& folder_or_manifest);

}  // namespace cxr
