// CSV manifests (RFC 4180 quoting, a header row): a `path` column (relative to the CSV's folder
// or absolute) and either a `label` column (single-label: classes are the sorted distinct
// values) or one 0/1 column per label (multi-label, e.g. the 14 findings of ChestX-ray14). A
// UTF-8 byte-order mark (spreadsheets' "CSV UTF-8") before the header is skipped.
// Optional `split` (train | val | test; empty: train) and `patient_id`; `test` rows are kept
// apart in ManifestSplits::test, never trained on. With patient ids and no split column,
// validation is a seeded patient-level split: no patient is in two splits. Patient ids are used
// for grouping only; they are never printed or written.
#pragma once
#include <cstdint>
#include <string>

#include "io/dataset.h"

namespace cxr {

struct ManifestSplits {
  Dataset train, val, test;
};

// `val_fraction`: used when the manifest has no split column (by patient when it has ids).
// UsageError naming the file and line for malformed rows.
ManifestSplits read_manifest(const std::string& csv_path, double val_fraction, uint64_t seed);

}  // namespace cxr
