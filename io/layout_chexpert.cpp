// CheXpert (Irvin et al. 2019) as distributed: CheXpert-v1.0[-small]/{train,valid}.csv, Path
// relative to the folder that holds CheXpert-v1.0*, 14 observations 1.0 / 0.0 / −1.0 / blank.
// The patient is the patientNNNNN component of the path; the view is AP/PA for frontal images
// and LATERAL for lateral ones.
#include <filesystem>

#include "core/errors.h"
#include "io/layout_table.h"

namespace cxr::layout {

namespace fs = std::filesystem;

namespace {

std::string patient_of(const std::string& path) {
  for (const fs::path& part : fs::path(path))
    if (part.string().rfind("patient", 0) == 0) return part.string();
  return "";
}

void read_rows(const std::string& file, const std::string& split, const LayoutRequest& r, Rows& out) {
  const Table t = read_table(file, "chexpert");
  const size_t c_path = t.column("Path"), c_fl = t.column("Frontal/Lateral"), c_appa = t.column("AP/PA");
  std::vector<size_t> c_obs;
  for (const std::string& l : out.labels) c_obs.push_back(t.column(l));
  const AttributeColumns attributes = attribute_columns(t, "Sex", "Age", true, {"Sex", "Age", "Frontal/Lateral", "AP/PA"});
  if (out.attribute_names.empty()) out.attribute_names = attributes.names();
  if (attributes.names() != out.attribute_names)
    throw UsageError(file + ": its Sex / Age columns differ from the first label file's; the chexpert layout needs the same header in both");
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& f = t.rows[i];
    Row row;
    row.where = t.where(i);
    row.relative = f[c_path];
    row.path = (fs::path(out.root) / row.relative).string();
    row.split = split;
    row.patient = patient_of(row.relative);
    row.view = upper(f[c_fl]) == "LATERAL" ? "LATERAL" : upper(f[c_appa]);
    attributes.record(f, row);
    for (size_t k = 0; k < c_obs.size(); ++k) row.targets.push_back(observation(f[c_obs[k]], r.uncertain, row.where, out.labels[k]));
    out.rows.push_back(std::move(row));
  }
}

}  // namespace

Rows read_chexpert(const LayoutRequest& r) {
  Rows out;
  out.labels = chexpert_labels();
  const fs::path dir = fs::path(r.train).parent_path();
  if (r.images) out.root = *r.images;
  else if (dir.filename().string().rfind("CheXpert-v1.0", 0) == 0) out.root = dir.parent_path().empty() ? "." : dir.parent_path().string();
  else out.root = dir.empty() ? "." : dir.string();
  // train.csv + valid.csv: the official validation split; another file alone: split by patient.
  const fs::path valid = dir / "valid.csv";
  const bool official = !r.whole_file && fs::path(r.train).filename() == "train.csv" && fs::exists(valid);
  read_rows(r.train, official ? "train" : "", r, out);
  if (official) read_rows(valid.string(), "val", r, out);
  return out;
}

}  // namespace cxr::layout
