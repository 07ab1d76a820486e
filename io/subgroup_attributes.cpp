#include "io/subgroup_attributes.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include "core/errors.h"
#include "engine/subgroups.h"
#include "io/csv.h"
#include "io/dicom_structure.h"
#include "io/image_sniff.h"

namespace cxr {
namespace {

// Lower case, letters and digits only: "Patient ID", "patient_id" and "PatientID" meet.
std::string folded(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  return out;
}

// PS3.15 Basic Application Level Confidentiality Profile attributes that identify a person or
// an examination, by keyword (folded) with the reason given to the user; then common CSV names.
const std::map<std::string, std::string>& identifying_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> m;
    const auto add = [&m](std::initializer_list<const char*> keys, const std::string& why) {
      for (const char* k : keys) m[folded(k)] = why;
    };
    add({"PatientName", "PatientsName", "Name", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
         "MothersBirthName"},
        "a name identifies a person");
    add({"PatientID", "Patient", "PatientIdentifier", "IssuerOfPatientID", "OtherPatientIDs", "OtherPatientIDsSequence",
         "MedicalRecordLocator", "MRN", "MedicalRecordNumber", "SubjectID", "Subject", "SSN", "SocialSecurityNumber",
         "InsurancePlanIdentification", "PatientInsurancePlanCodeSequence"},
        "a patient identifier identifies a person");
    add({"PatientBirthDate", "PatientsBirthDate", "BirthDate", "DateOfBirth", "DOB", "PatientBirthTime", "BirthTime"},
        "a date of birth identifies a person (use age, which is banded)");
    add({"PatientAddress", "Address", "PatientTelephoneNumbers", "Telephone", "Phone", "Email", "CountryOfResidence",
         "RegionOfResidence", "MilitaryRank", "BranchOfService"},
        "contact and residence details identify a person");
    add({"AccessionNumber", "Accession", "StudyID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
         "FrameOfReferenceUID", "DicomID", "ImageIndex", "Path", "FileName", "RequestedProcedureID",
         "ScheduledProcedureStepID", "PerformedProcedureStepID", "AdmissionID", "ServiceEpisodeID"},
        "an examination, image or file identifier points to one patient's record");
    add({"StudyDate", "StudyTime", "SeriesDate", "SeriesTime", "AcquisitionDate", "AcquisitionTime",
         "AcquisitionDateTime", "ContentDate", "ContentTime", "InstanceCreationDate", "StudyDateTime"},
        "examination dates and times identify a visit");
    add({"InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "ReferringPhysicianName",
         "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers", "PerformingPhysicianName",
         "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord", "RequestingPhysician", "OperatorsName",
         "StationName", "DeviceSerialNumber"},
        "staff, institution and device names or serial numbers are identifying under PS3.15");
    return m;
  }();
  return names;
}

// The same attributes by tag (group << 16 | element).
const std::map<uint32_t, std::string>& identifying_tags() {
  static const std::map<uint32_t, std::string> tags{
      {0x00100010, "patientname"},  {0x00100020, "patientid"},       {0x00100021, "issuerofpatientid"},
      {0x00101000, "otherpatientids"}, {0x00101001, "otherpatientnames"}, {0x00101005, "patientbirthname"},
      {0x00100030, "patientbirthdate"}, {0x00100032, "patientbirthtime"}, {0x00101040, "patientaddress"},
      {0x00102154, "patienttelephonenumbers"}, {0x00101060, "patientmotherbirthname"},
      {0x00101090, "medicalrecordlocator"}, {0x00080050, "accessionnumber"}, {0x00200010, "studyid"},
      {0x0020000D, "studyinstanceuid"}, {0x0020000E, "seriesinstanceuid"}, {0x00080018, "sopinstanceuid"},
      {0x00080020, "studydate"}, {0x00080030, "studytime"}, {0x00080080, "institutionname"},
      {0x00080081, "institutionaddress"}, {0x00080090, "referringphysicianname"}, {0x00081050, "performingphysicianname"},
      {0x00081070, "operatorsname"}, {0x00081010, "stationname"}, {0x00181000, "deviceserialnumber"}};
  return tags;
}

struct BuiltIn {
  const char* name;
  uint16_t group, element;
  const char* source;
};
constexpr BuiltIn kBuiltIns[] = {{"sex", 0x0010, 0x0040, "DICOM (0010,0040) Patient's Sex"},
                                 {"age", 0x0010, 0x1010, "DICOM (0010,1010) Patient's Age, 20-year bands, 90+ folded"},
                                 {"view", 0x0018, 0x5101, "DICOM (0018,5101) View Position"},
                                 {"manufacturer", 0x0008, 0x0070, "DICOM (0008,0070) Manufacturer"}};

// "(0010,0010)", "0010,0010", "00100010": the tag, or -1 when `key` is not written as one.
int64_t as_tag(const std::string& key) {
  std::string hex;
  bool comma = false;
  for (unsigned char c : key) {
    if (std::isxdigit(c)) hex += static_cast<char>(c);
    else if (c == ',') comma = true;
    else if (c != '(' && c != ')' && c != ' ') return -1;
  }
  // Eight hex digits with a comma, or eight decimal digits ("00100010"): a column named
  // "deadbeef" stays a column.
  if (hex.size() != 8 || (!comma && !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isdigit(c); })))
    return -1;
  return static_cast<int64_t>(std::stoul(hex, nullptr, 16));
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string dicom_value(const SubgroupKey& key, const std::string& path) {
  if (sniff_image_file(path) != ImageKind::Dicom) return "unknown";
  check_sequence_nesting(path);  // as read_dicom: before DCMTK's recursive parser sees the file
  DcmFileFormat file;
  // Elements longer than 4 KiB (the pixel data) stay on disk: only the header is parsed.
  if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad()) return "unknown";
  OFString value;
  if (file.getDataset()->findAndGetOFString(DcmTagKey(key.group, key.element), value).bad()) return "unknown";
  const std::string v = trimmed(value.c_str());
  if (v.empty()) return "unknown";
  if (key.age) {
    const double years = age_in_years(v);
    return years < 0 ? "unknown" : age_band(years);
  }
  std::string upper = v;
  if (key.name == "sex" || key.name == "view")
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  return upper;
}

std::vector<std::string> column_values(const SubgroupKey& key, const std::vector<std::string>& relative,
                                       const std::string& manifest) {
  if (manifest.empty())
    throw UsageError("--subgroups " + key.name + ": not sex, age, view or manufacturer, and --data is a folder, "
                     "which has no columns (give a CSV manifest with a " + key.name + " column)");
  std::ifstream in(manifest, std::ios::binary);
  if (!in) throw UsageError("--subgroups " + key.name + ": cannot read " + manifest);
  std::vector<std::string> header, row;
  int64_t line = 1;
  if (!read_csv_record(in, header, line)) throw UsageError(manifest + ": empty");
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0] = header[0].substr(3);
  size_t c_path = header.size(), c_key = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (folded(header[i]) == "path") c_path = i;
    if (header[i] == key.name) c_key = i;
  }
  if (c_key == header.size()) {
    std::string names;
    for (const std::string& h : header) names += (names.empty() ? "" : ", ") + h;
    throw UsageError("--subgroups " + key.name + ": " + manifest + " has no such column (columns: " + names + ")");
  }
  if (c_path == header.size()) throw UsageError(manifest + ": no path column");
  std::map<std::string, std::string> by_path;
  while (read_csv_record(in, row, line)) {
    if (row.size() <= std::max(c_path, c_key)) continue;
    std::string v = trimmed(row[c_key]);
    if (key.age && !v.empty()) {
      const double years = age_in_years(v);
      v = years < 0 ? "" : age_band(years);
    }
    by_path.emplace(row[c_path], v.empty() ? "unknown" : v);
  }
  std::vector<std::string> out;
  for (const std::string& r : relative) {
    const auto it = by_path.find(r);
    out.push_back(it == by_path.end() ? "unknown" : it->second);
  }
  return out;
}

}  // namespace

std::vector<SubgroupKey> parse_subgroup_keys(const std::vector<std::string>& given) {
  // A comma-separated list cuts "(0010,0030)" in two: the halves are joined again.
  std::vector<std::string> keys;
  for (const std::string& k : given) {
    if (!keys.empty() && keys.back().find('(') != std::string::npos && keys.back().find(')') == std::string::npos)
      keys.back() += "," + k;
    else
      keys.push_back(k);
  }
  std::vector<SubgroupKey> out;
  std::set<std::string> seen;
  for (const std::string& raw : keys) {
    const std::string name = trimmed(raw);
    if (name.empty()) throw UsageError("--subgroups: an empty key (give e.g. sex,age,view,manufacturer)");
    const auto why = identifying_names().find(folded(name));
    if (why != identifying_names().end())
      throw UsageError("--subgroups " + name + ": refused: " + why->second +
                       " (DICOM PS3.15 Basic Application Level Confidentiality Profile), and subgroup values are "
                       "written to metrics.json and printed");
    SubgroupKey k;
    k.name = name;
    const int64_t tag = as_tag(name);
    if (tag >= 0) {
      const auto id = identifying_tags().find(static_cast<uint32_t>(tag));
      if (id != identifying_tags().end())
        throw UsageError("--subgroups " + name + ": refused: the tag is " + id->second + ", an identifying "
                         "attribute (DICOM PS3.15 Basic Application Level Confidentiality Profile), and subgroup "
                         "values are written to metrics.json and printed");
      const BuiltIn* b = nullptr;
      for (const BuiltIn& x : kBuiltIns)
        if ((static_cast<uint32_t>(x.group) << 16 | x.element) == tag) b = &x;
      if (!b) throw UsageError("--subgroups " + name + ": the DICOM attributes are sex, age, view and manufacturer");
      k.name = b->name;
    } else if (name.find_first_of("()") != std::string::npos) {
      throw UsageError("--subgroups " + name + ": not a DICOM tag; write one as (gggg,eeee)");
    }
    for (const BuiltIn& b : kBuiltIns)
      if (k.name == b.name) k.dicom = true, k.group = b.group, k.element = b.element, k.source = b.source;
    k.age = k.name == "age" || folded(k.name) == "age" || folded(k.name) == "patientage";
    if (!k.dicom) k.source = "column " + k.name + " of the --data manifest";
    if (!seen.insert(k.name).second) throw UsageError("--subgroups " + name + ": given twice");
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<std::string> subgroup_values(const SubgroupKey& key, const std::vector<std::string>& paths,
                                         const std::vector<std::string>& relative, const std::string& manifest) {
  std::vector<std::string> out;
  if (key.dicom) {
    for (const std::string& p : paths) out.push_back(dicom_value(key, p));
  } else {
    out = column_values(key, relative, manifest);
  }
  std::set<std::string> distinct(out.begin(), out.end());
  distinct.erase("unknown");
  if (static_cast<int64_t>(distinct.size()) > kMaxSubgroupValues)
    throw UsageError("--subgroups " + key.name + ": refused: " + std::to_string(distinct.size()) +
                     " distinct values (more than " + std::to_string(kMaxSubgroupValues) +
                     "): a key with that many values names individuals, not groups");
  return out;
}

double age_in_years(const std::string& s) {
  const std::string t = trimmed(s);
  if (t.empty()) return -1;
  size_t digits = 0;
  while (digits < t.size() && (std::isdigit(static_cast<unsigned char>(t[digits])) || t[digits] == '.')) ++digits;
  if (digits == 0) return -1;
  double v;
  try {
    v = std::stod(t.substr(0, digits));
  } catch (const std::exception&) {
    return -1;
  }
  const std::string unit = t.substr(digits);
  if (unit.empty() || unit == "Y" || unit == "y") return v;
  if (unit == "M" || unit == "m") return v / 12;
  if (unit == "W" || unit == "w") return v * 7 / 365.25;
  if (unit == "D" || unit == "d") return v / 365.25;
  return -1;
}

}  // namespace cxr
