// The subgroup keys of `cxrtune eval --subgroups` (and a recipe's eval.subgroups), and the value
// of a key for each evaluated image. Keys:
//   sex           DICOM (0010,0040) Patient's Sex: M, F, O
//   age           DICOM (0010,1010) Patient's Age (nnnD/W/M/Y) in 20-year bands, 90+ folded
//                 (engine/subgroups.h: age_band)
//   view          DICOM (0018,5101) View Position: PA, AP, LL, ...
//   manufacturer  DICOM (0008,0070) Manufacturer
//   anything else a column of the --data CSV manifest, by its header name; a column whose
//                 name is an age is banded like `age`
// A data set read through an official layout (io/dataset_layouts.h) carries what its label CSV
// records per sample (Dataset::attribute_names): nih sex, age, view and its columns Patient
// Gender, Patient Age, View Position; chexpert sex, age, view and Sex, Age, Frontal/Lateral,
// AP/PA; mimic-cxr-jpg view and its metadata's ViewPosition, PerformedProcedureStepDescription,
// ViewCodeSequence_CodeMeaning, PatientOrientationCodeSequence_CodeMeaning,
// ProcedureCodeSequence_CodeMeaning; rsna-pneumonia nothing (its DICOMs carry the tags). A
// standard key the layout records is taken from it; one it does not record (manufacturer, RSNA's
// sex / age / view) is read from the image's DICOM header as above.
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
#include "io/dataset.h"

namespace cxr {

constexpr int64_t kMaxSubgroupValues = 24;

// The value of `key` for each image: `paths` are the files (for DICOM keys), `relative` the
// manifest's path column values (for column keys; `manifest` is the CSV, empty for a folder
// set, where a column key is a UsageError). UsageError when the manifest has no such column,
// or the key has more than kMaxSubgroupValues values.
std::vector<std::string> subgroup_values(const SubgroupKey& key, const std::vector<std::string>& paths,
                                         const std::vector<std::string>& relative, const std::string& manifest);

// The value of `key` for each evaluated image, `ids` its path relative to data.root (ScoredSet
// ids): the sample's recorded attribute when data records `key` (a raw age column banded),
// else the DICOM attribute (a standard key), else the `manifest` column (as above). UsageError
// for a column key that neither data nor a manifest has, naming what the layout records.
std::vector<std::string> dataset_subgroup_values(const SubgroupKey& key, const Dataset& data, const std::vector<std::string>& ids,
                                         const std::string& manifest);

// Patient's sex as for DICOM: "M" / "Male" → M, "F" / "Female" → F, "O" / "Other" → O (any
// case, blanks trimmed); anything else (blank, "Unknown") → "unknown".
std::string normalised_sex(const std::string& value);
// An age string (DICOM "058Y" / "018M", a plain number of years "58") as its 20-year band
// (engine/subgroups.h age_band: 90 and over one band); "unknown" when it is not an age.
std::string banded_age(const std::string& value);
// Blanks trimmed at both ends.
std::string trimmed_value(const std::string& value);

// DICOM Age String "045Y", "006M", "010W", "003D" (or a plain number of years) in years;
// negative when it is not one.
double age_in_years(const std::string& age_string);

}  // namespace cxr
