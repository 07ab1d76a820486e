#include "io/subgroup_attributes.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

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

}  // namespace

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
