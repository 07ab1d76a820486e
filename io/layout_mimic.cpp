// MIMIC-CXR-JPG 2.0 (Johnson et al. 2019) as distributed: the CheXpert-labeler study labels
// (mimic-cxr-2.0.0-chexpert.csv: subject_id, study_id, 14 observations) joined with the image
// list (-metadata.csv: dicom_id, subject_id, study_id, ViewPosition) and the official split
// (-split.csv: dicom_id, ..., split train/validate/test); each .csv or .csv.gz. One sample per
// image; every image of a study carries the study's labels.
#include <filesystem>
#include <unordered_map>

#include "core/errors.h"
#include "io/layout_table.h"

namespace cxr::layout {

namespace fs = std::filesystem;

Rows read_mimic(const LayoutRequest& r) {
  const fs::path dir = fs::path(r.train).parent_path();
  const Table labels = read_table(r.train, "mimic-cxr-jpg");
  const Table meta = read_table(beside(dir.string(), "mimic-cxr-2.0.0-metadata.csv"), "mimic-cxr-jpg");
  const Table split = read_table(beside(dir.string(), "mimic-cxr-2.0.0-split.csv"), "mimic-cxr-jpg");
  Rows out;
  out.root = r.images ? *r.images : (dir.empty() ? std::string(".") : dir.string());
  out.labels = chexpert_labels();
  const size_t l_study = labels.column("study_id");
  std::vector<size_t> c_obs;
  for (const std::string& l : out.labels) c_obs.push_back(labels.column(l));
  std::unordered_map<std::string, size_t> study_row;
  for (size_t i = 0; i < labels.rows.size(); ++i) study_row.emplace(labels.rows[i][l_study], i);
  const size_t s_dicom = split.column("dicom_id"), s_split = split.column("split");
  std::unordered_map<std::string, std::string> split_of;
  for (const auto& f : split.rows) split_of[f[s_dicom]] = f[s_split];
  const size_t m_dicom = meta.column("dicom_id"), m_subject = meta.column("subject_id"), m_study = meta.column("study_id"),
               m_view = meta.column("ViewPosition");
  // MIMIC-CXR-JPG records no sex or age (those are in MIMIC-IV): the view, and the metadata's
  // acquisition descriptions by name. Its ids, dates and times are never kept.
  const AttributeColumns attributes =
      attribute_columns(meta, "", "", true,
                        {"ViewPosition", "PerformedProcedureStepDescription", "ViewCodeSequence_CodeMeaning",
                         "PatientOrientationCodeSequence_CodeMeaning", "ProcedureCodeSequence_CodeMeaning"});
  out.attribute_names = attributes.names();
  for (size_t i = 0; i < meta.rows.size(); ++i) {
    const auto& f = meta.rows[i];
    Row row;
    row.where = meta.where(i);
    const std::string& subject = f[m_subject];
    const std::string& study = f[m_study];
    const auto lab = study_row.find(study);
    if (lab == study_row.end()) {
      out.skipped.push_back(row.where + ": study " + study + " has no row in " + labels.file);
      continue;
    }
    if (subject.size() < 2) throw UsageError(row.where + ": subject_id '" + subject + "' is too short for files/pXX/");
    const auto sp = split_of.find(f[m_dicom]);
    if (sp == split_of.end()) throw UsageError(row.where + ": dicom_id " + f[m_dicom] + " has no row in " + split.file);
    if (sp->second == "train") row.split = "train";
    else if (sp->second == "validate") row.split = "val";
    else if (sp->second == "test") row.split = "test";
    else throw UsageError(split.file + ": split of " + f[m_dicom] + " must be train, validate or test, got '" + sp->second + "'");
    row.relative = "files/p" + subject.substr(0, 2) + "/p" + subject + "/s" + study + "/" + f[m_dicom] + ".jpg";
    row.path = (fs::path(out.root) / row.relative).string();
    row.patient = subject;
    row.view = upper(f[m_view]);
    attributes.record(f, row);
    const std::string where = labels.where(lab->second);
    for (size_t k = 0; k < c_obs.size(); ++k)
      row.targets.push_back(observation(labels.rows[lab->second][c_obs[k]], r.uncertain, where, out.labels[k]));
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace cxr::layout
