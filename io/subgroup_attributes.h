// The subgroup keys of `cxrtune eval --subgroups` (and a recipe's eval.subgroups), and the value
// of a key for each evaluated image. Keys:
//   sex           DICOM (0010,0040) Patient's Sex: M, F, O
//   age           DICOM (0010,1010) Patient's Age (nnnD/W/M/Y) in 20-year bands, 90+ folded
//                 (engine/subgroups.h: age_band)
//   view          DICOM (0018,5101) View Position: PA, AP, LL, ...
//   manufacturer  DICOM (0008,0070) Manufacturer
//   anything else a column of the --data CSV manifest, by its header name (CheXpert's Sex, Age,
//                 AP/PA; NIH's Patient Gender, Patient Age, View Position); a column whose name
//                 is an age is banded like `age`
// An image without the attribute (a PNG, an empty tag, no such row) has the value "unknown".
// Keys are parsed by engine/subgroup_keys.h (text alone, so the recipe parser checks
// eval.subgroups when it reads a recipe). Identifying attributes are refused as keys, with the
// reason (UsageError, exit 2): the names of DICOM PS3.15's Basic Application Level
// Confidentiality Profile that identify a person or an examination (patient name, ID, other IDs, birth date and time, address, telephone,
// accession number, UIDs, dates and times, physicians', operators' and institution names, ...),
// in DICOM keyword, tag or CSV-column spelling. A key with more than kMaxSubgroupValues distinct
// values is refused too: that many values name individuals, not groups. Only the named
// attribute is read from each file (no other attribute of a file is kept).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/subgroup_keys.h"

namespace cxr {

constexpr int64_t kMaxSubgroupValues = 24;

// The value of `key` for each image: `paths` are the files (for DICOM keys), `relative` the
// manifest's path column values (for column keys; `manifest` is the CSV, empty for a folder
// set, where a column key is a UsageError). UsageError when the manifest has no such column,
// or the key has more than kMaxSubgroupValues values.
std::vector<std::string> subgroup_values(const SubgroupKey& key, const std::vector<std::string>& paths,
                                         const std::vector<std::string>& relative, const std::string& manifest);

// DICOM Age String "045Y", "006M", "010W", "003D" (or a plain number of years) in years;
// negative when it is not one.
double age_in_years(const std::string& age_string);

}  // namespace cxr
