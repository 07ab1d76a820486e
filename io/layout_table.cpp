#include "io/layout_table.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/errors.h"
#include "io/csv.h"
#include "io/dataset.h"
#include "io/subgroup_attributes.h"

namespace cxr::layout {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The whole file, inflated when it is gzip (MIMIC ships its CSVs as .csv.gz); a label file is
// tens of MB at most, so reading it whole is simpler than streaming.
std::string file_text(const std::string& file) {
  if (ends_with(file, ".gz")) {
    gzFile gz = gzopen(file.c_str(), "rb");
    if (!gz) throw UsageError("cannot open " + file);
    std::string out;
    char buf[1 << 16];
    int got;
    while ((got = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(got));
    const bool bad = got < 0;
    gzclose(gz);
    if (bad) throw UsageError(file + ": not a readable gzip file");
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in || fs::is_directory(file)) throw UsageError("cannot open " + file);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

size_t Table::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw UsageError(file + ": the " + layout + " layout needs a column '" + name + "' (the header has " +
                   std::to_string(header.size()) + " columns" + (header.empty() ? "" : ", starting '" + header[0] + "'") + ")");
}

bool Table::has(const std::string& name) const { return std::find(header.begin(), header.end(), name) != header.end(); }

Table read_table(const std::string& file, const std::string& layout) {
  Table t{file, layout, {}, {}, {}};
  std::string text = file_text(file);
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  size_t pos = 0;
  int64_t line = 1;
  if (!read_csv_record(text, pos, t.header, line)) throw UsageError(file + ": empty file (the " + layout + " layout needs a header row)");
  std::vector<std::string> row;
  for (int64_t start = line; read_csv_record(text, pos, row, line); start = line) {
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() != t.header.size())
      throw UsageError(file + ":" + std::to_string(start) + ": " + std::to_string(row.size()) + " fields, the header has " +
                       std::to_string(t.header.size()));
    t.rows.push_back(std::move(row));
    t.lines.push_back(start);
  }
  return t;
}

std::vector<std::string> read_header(const std::string& file) {
  try {
    std::string text = file_text(file);
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    std::istringstream in(text.substr(0, text.find('\n')));
    std::vector<std::string> header;
    int64_t line = 1;
    read_csv_record(in, header, line);
    return header;
  } catch (const UsageError&) {
    return {};
  }
}

std::string beside(const std::string& dir, const std::string& name) {
  const fs::path plain = fs::path(dir) / name;
  if (fs::exists(plain)) return plain.string();
  const fs::path gz = fs::path(dir) / (name + ".gz");
  return fs::exists(gz) ? gz.string() : plain.string();
}

const std::vector<std::string>& chexpert_labels() {
  static const std::vector<std::string> labels{
      "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
      "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other",
      "Fracture", "Support Devices"};
  return labels;
}

float observation(const std::string& value, const std::string& uncertain, const std::string& where,
                  const std::string& column) {
  if (value.empty() || value == "0" || value == "0.0") return 0.0f;
  if (value == "1" || value == "1.0") return 1.0f;
  if (value == "-1" || value == "-1.0") {
    // Irvin et al. 2019: U-Ignore, U-Ones, U-Zeros.
    if (uncertain == "ones") return 1.0f;
    if (uncertain == "zeros") return 0.0f;
    return kIgnoredTarget;
  }
  throw UsageError(where + ": '" + column + "' must be 1.0, 0.0, -1.0 or blank, got '" + value + "'");
}

std::vector<std::string> AttributeColumns::names() const {
  std::vector<std::string> out;
  for (const Slot& s : slots) out.push_back(s.name);
  return out;
}

void AttributeColumns::record(const std::vector<std::string>& fields, Row& row) const {
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    std::string v;
    switch (s.kind) {
      case Kind::Sex: v = normalised_sex(fields[s.column]); break;
      case Kind::Age: v = banded_age(fields[s.column]); break;
      case Kind::View: v = row.view; break;
      case Kind::Raw: v = trimmed_value(fields[s.column]); break;
    }
    row.attributes[i] = intern_attribute(v == "unknown" && s.kind != Kind::Raw ? std::string() : v);
  }
}

AttributeColumns attribute_columns(const Table& t, const std::string& sex, const std::string& age, bool view,
                                   const std::vector<std::string>& own) {
  using Kind = AttributeColumns::Kind;
  AttributeColumns a;
  if (!sex.empty() && t.has(sex)) a.slots.push_back({"sex", Kind::Sex, t.column(sex)});
  if (!age.empty() && t.has(age)) a.slots.push_back({"age", Kind::Age, t.column(age)});
  if (view) a.slots.push_back({"view", Kind::View, 0});
  for (const std::string& c : own)
    if (t.has(c)) a.slots.push_back({c, Kind::Raw, t.column(c)});
  if (a.slots.size() > kMaxSampleAttributes)
    throw std::logic_error(t.layout + ": more subgroup attributes than Sample holds");
  return a;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace cxr::layout
