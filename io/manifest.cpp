#include "io/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/errors.h"
#include "io/csv.h"
#include "io/patient_groups.h"

namespace cxr {

namespace fs = std::filesystem;

ManifestSplits read_manifest(const std::string& csv_path, double val_fraction, uint64_t seed) {
  std::ifstream in(csv_path);
  if (!in || fs::is_directory(csv_path)) throw UsageError("cannot open manifest " + csv_path);
  skip_utf8_bom(in);
  int64_t line = 1;
  std::vector<std::string> header, row;
  if (!read_csv_record(in, header, line)) throw UsageError(csv_path + ": empty manifest");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  if (!col.count("path")) throw UsageError(csv_path + ":1: the header needs a 'path' column");
  const bool single = col.count("label") != 0;
  std::vector<std::string> labels;
  for (const std::string& h : header)
    if (h != "path" && h != "label" && h != "split" && h != "patient_id") labels.push_back(h);
  if (!single && labels.empty()) throw UsageError(csv_path + ":1: needs a 'label' column or one column per label");
  struct Row {
    Sample sample;
    std::string split, patient, label;
  };
  std::vector<Row> rows;
  const fs::path base = fs::path(csv_path).parent_path();
  for (int64_t start = line; read_csv_record(in, row, line); start = line) {
    if (row.size() == 1 && row[0].empty()) continue;
    const std::string where = csv_path + ":" + std::to_string(start);
    if (row.size() != header.size())
      throw UsageError(where + ": " + std::to_string(row.size()) + " fields, the header has " + std::to_string(header.size()));
    Row r;
    const fs::path p(row[col["path"]]);
    r.sample.path = (p.is_absolute() ? p : base / p).string();
    r.sample.relative = row[col["path"]];
    if (col.count("split")) r.split = row[col["split"]];
    if (col.count("patient_id")) r.patient = row[col["patient_id"]];
    if (!r.split.empty() && r.split != "train" && r.split != "val" && r.split != "test")
      throw UsageError(where + ": split must be train, val or test, got '" + r.split + "'");
    if (single) {
      r.label = row[col["label"]];
    } else {
      for (const std::string& l : labels) {
        const std::string& v = row[col[l]];
        if (v != "0" && v != "1") throw UsageError(where + ": label column '" + l + "' must be 0 or 1, got '" + v + "'");
        r.sample.targets.push_back(v == "1" ? 1.0f : 0.0f);
      }
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw UsageError(csv_path + ": no rows");
  if (single) {
    std::set<std::string> names;
    for (const Row& r : rows) names.insert(r.label);
    labels.assign(names.begin(), names.end());
    for (Row& r : rows) r.sample.label = std::find(labels.begin(), labels.end(), r.label) - labels.begin();
  }
  // Without a split column: hold out whole patients (or single rows without ids) for validation.
  const bool by_column = col.count("split") != 0;
  if (!by_column) {
    std::vector<std::string> groups;
    for (size_t i = 0; i < rows.size(); ++i) groups.push_back(rows[i].patient.empty() ? "#" + std::to_string(i) : rows[i].patient);
    const std::set<std::string> val_patients = held_out_groups(groups, val_fraction, seed);
    for (size_t i = 0; i < rows.size(); ++i) rows[i].split = val_patients.count(groups[i]) ? "val" : "train";
  }
  const std::string salt = dataset_salt(base.string());
  for (Row& r : rows) r.sample.patient_key = patient_key(salt, r.patient);
  ManifestSplits out;
  for (Dataset* d : {&out.train, &out.val, &out.test}) {
    d->root = base.string();
    d->classes = labels;
    d->multi_label = !single;
  }
  for (Row& r : rows) (r.split == "val" ? out.val : r.split == "test" ? out.test : out.train).samples.push_back(std::move(r.sample));
  return out;
}

}  // namespace cxr
