#include "engine/subgroup_keys.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/errors.h"

namespace cxr {
namespace {

// PS3.15 Basic Application Level Confidentiality Profile attributes that identify a person or
// an examination, by keyword (folded) with the reason given to the user; then common CSV names.
const std::map<std::string, std::string>& identifying_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> m;
    const auto add = [&m](std::initializer_list<const char*> keys, const std::string& why) {
      for (const char* k : keys) m[folded_key(k)] = why;
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

}  // namespace

std::string folded_key(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  return out;
}

std::vector<SubgroupKey> parse_subgroup_keys(const std::vector<std::string>& given, const std::string& origin) {
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
    if (name.empty()) throw UsageError(origin + ": an empty key (give e.g. sex,age,view,manufacturer)");
    const auto why = identifying_names().find(folded_key(name));
    if (why != identifying_names().end())
      throw UsageError(origin + " " + name + ": refused: " + why->second +
                       " (DICOM PS3.15 Basic Application Level Confidentiality Profile), and subgroup values are "
                       "written to metrics.json and printed");
    SubgroupKey k;
    k.name = name;
    const int64_t tag = as_tag(name);
    if (tag >= 0) {
      const auto id = identifying_tags().find(static_cast<uint32_t>(tag));
      if (id != identifying_tags().end())
        throw UsageError(origin + " " + name + ": refused: the tag is " + id->second + ", an identifying "
                         "attribute (DICOM PS3.15 Basic Application Level Confidentiality Profile), and subgroup "
                         "values are written to metrics.json and printed");
      const BuiltIn* b = nullptr;
      for (const BuiltIn& x : kBuiltIns)
        if ((static_cast<uint32_t>(x.group) << 16 | x.element) == tag) b = &x;
      if (!b) throw UsageError(origin + " " + name + ": the DICOM attributes are sex, age, view and manufacturer");
      k.name = b->name;
    } else if (name.find_first_of("()") != std::string::npos) {
      throw UsageError(origin + " " + name + ": not a DICOM tag; write one as (gggg,eeee)");
    }
    for (const BuiltIn& b : kBuiltIns)
      if (k.name == b.name) k.dicom = true, k.group = b.group, k.element = b.element, k.source = b.source;
    k.age = k.name == "age" || folded_key(k.name) == "age" || folded_key(k.name) == "patientage";
    if (!k.dicom) k.source = "column " + k.name + " of the --data manifest";
    if (!seen.insert(k.name).second) throw UsageError(origin + " " + name + ": given twice");
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace cxr
