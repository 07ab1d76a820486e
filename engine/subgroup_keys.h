// The keys of `cxrtune eval --subgroups` and of a recipe's eval.subgroups, parsed from text
// alone (no file is read): the four DICOM attributes by name or tag, or a manifest column, and
// the refusal, with the reason, of every identifying attribute of DICOM PS3.15's Basic
// Application Level Confidentiality Profile (io/subgroup_attributes.h reads the values).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

struct SubgroupKey {
  std::string name;         // as the user wrote it
  std::string source;       // "DICOM (0010,0040) Patient's Sex" or "column Sex of MANIFEST"
  bool dicom = false;
  uint16_t group = 0, element = 0;  // the DICOM tag when `dicom`
  bool age = false;                 // values are banded ages
};

// "sex,age,view,manufacturer,Sex": the keys in order, blanks trimmed, duplicates refused. A tag
// is written (gggg,eeee); cut at its comma by a comma-separated list, its halves are rejoined.
// UsageError naming the key and the reason for an identifying, empty or tag-form key that is
// not one of the four above.
// `origin` starts every message: "--subgroups" (eval's option) or "RECIPE: eval.subgroups".
std::vector<SubgroupKey> parse_subgroup_keys(const std::vector<std::string>& keys,
                                             const std::string& origin = "--subgroups");

// Lower case, letters and digits only: "Patient ID", "patient_id" and "PatientID" meet.
std::string folded_key(const std::string& s);

}  // namespace cxr
