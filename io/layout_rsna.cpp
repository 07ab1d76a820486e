// RSNA Pneumonia Detection Challenge (stage 2) as distributed: stage_2_train_labels.csv with
// one row per box (patientId, x, y, width, height, Target), several rows per image, and
// stage_2_train_images/<patientId>.dcm. One label, Pneumonia = Target; a file whose rows for
// one patientId disagree on Target is refused (the boxes would contradict the label). The CSV
// does not record the view (it is in the DICOM header), so data.views does not apply.
#include <filesystem>
#include <unordered_map>

#include "core/errors.h"
#include "io/layout_table.h"

namespace cxr::layout {

namespace fs = std::filesystem;

Rows read_rsna(const LayoutRequest& r) {
  const Table t = read_table(r.train, "rsna-pneumonia");
  const size_t c_id = t.column("patientId"), c_target = t.column("Target");
  const fs::path dir = fs::path(r.train).parent_path();
  Rows out;
  if (r.images) out.root = *r.images;
  else if (fs::is_directory(dir / "stage_2_train_images")) out.root = (dir / "stage_2_train_images").string();
  else out.root = dir.empty() ? "." : dir.string();
  out.labels = {"Pneumonia"};
  out.records_views = false;
  std::unordered_map<std::string, size_t> seen;  // patientId → its row in out.rows
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& f = t.rows[i];
    const std::string& target = f[c_target];
    if (target != "0" && target != "1") throw UsageError(t.where(i) + ": Target must be 0 or 1, got '" + target + "'");
    const float v = target == "1" ? 1.0f : 0.0f;
    const auto [at, fresh] = seen.emplace(f[c_id], out.rows.size());
    if (!fresh) {
      const Row& first = out.rows[at->second];
      if (first.targets[0] != v)
        throw UsageError(t.where(i) + ": Target " + target + " for " + f[c_id] + " differs from " + first.where +
                         " (Target " + (first.targets[0] > 0 ? "1" : "0") + "): every row of one patientId must agree");
      continue;
    }
    Row row;
    row.where = t.where(i);
    row.relative = f[c_id] + ".dcm";
    row.path = (fs::path(out.root) / row.relative).string();
    row.patient = f[c_id];
    row.targets = {v};
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace cxr::layout
