#include "io/subgroup_attributes.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "core/errors.h"
#include "engine/subgroup_keys.h"
#include "engine/subgroups.h"
#include "io/csv.h"
#include "io/dicom_structure.h"
#include "io/image_sniff.h"

namespace cxr {
namespace {

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
  if (key.age) return banded_age(v);
  if (key.name == "sex") return normalised_sex(v);
  std::string upper = v;
  if (key.name == "view")
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
    if (folded_key(header[i]) == "path") c_path = i;
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

// Refuses a key with more values than groups can have.
void check_distinct(const SubgroupKey& key, const std::vector<std::string>& out) {
  std::set<std::string> distinct(out.begin(), out.end());
  distinct.erase("unknown");
  if (static_cast<int64_t>(distinct.size()) > kMaxSubgroupValues)
    throw UsageError("--subgroups " + key.name + ": refused: " + std::to_string(distinct.size()) +
                     " distinct values (more than " + std::to_string(kMaxSubgroupValues) +
                     "): a key with that many values names individuals, not groups");
}

// The slot of `key` in data.attribute_names, or npos.
size_t attribute_slot(const SubgroupKey& key, const Dataset& data) {
  for (size_t i = 0; i < data.attribute_names.size(); ++i)
    if (data.attribute_names[i] == key.name) return i;
  return std::string::npos;
}

std::vector<std::string> recorded_values(const SubgroupKey& key, size_t slot, const Dataset& data,
                                         const std::vector<std::string>& ids) {
  std::unordered_map<std::string, const Sample*> by_id;
  by_id.reserve(data.samples.size());
  for (const Sample& s : data.samples) by_id.emplace(s.relative, &s);
  const bool standard = key.name == "sex" || key.name == "age" || key.name == "view";
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const auto it = by_id.find(id);
    std::string v = it == by_id.end() ? std::string() : attribute_text(it->second->attributes[slot]);
    if (!standard && key.age && !v.empty()) v = banded_age(v);  // a raw age column ("058Y", "68")
    out.push_back(v.empty() ? "unknown" : v);
  }
  return out;
}

}  // namespace

std::vector<std::string> subgroup_values(const SubgroupKey& key, const std::vector<std::string>& paths,
                                         const std::vector<std::string>& relative, const std::string& manifest) {
  std::vector<std::string> out;
  if (key.dicom) {
    for (const std::string& p : paths) out.push_back(dicom_value(key, p));
  } else {
    out = column_values(key, relative, manifest);
  }
  check_distinct(key, out);
  return out;
}

std::vector<std::string> dataset_subgroup_values(const SubgroupKey& key, const Dataset& data, const std::vector<std::string>& ids,
                                         const std::string& manifest) {
  const size_t slot = attribute_slot(key, data);
  if (slot != std::string::npos) {
    std::vector<std::string> out = recorded_values(key, slot, data, ids);
    check_distinct(key, out);
    return out;
  }
  if (!key.dicom && manifest.empty() && !data.layout.empty()) {
    std::string names;
    for (const std::string& n : data.attribute_names) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("--subgroups " + key.name + ": the " + data.layout + " layout records " +
                     (names.empty() ? std::string("no attributes (its DICOM files carry sex, age, view and manufacturer)")
                                    : names) +
                     "; " + key.name + " is not one of them (identifying columns are never kept)");
  }
  std::vector<std::string> paths;
  for (const std::string& id : ids) paths.push_back((std::filesystem::path(data.root) / id).string());
  return subgroup_values(key, paths, ids, manifest);
}

std::string trimmed_value(const std::string& value) { return trimmed(value); }

std::string normalised_sex(const std::string& value) {
  std::string v = trimmed(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  if (v == "M" || v == "MALE") return "M";
  if (v == "F" || v == "FEMALE") return "F";
  if (v == "O" || v == "OTHER") return "O";
  return "unknown";
}

std::string banded_age(const std::string& value) {
  const double years = age_in_years(value);
  return years < 0 ? "unknown" : age_band(years);
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
