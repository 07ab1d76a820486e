// A recipe's data section resolved into the three splits plus a summary, for every layout
// (recipe key data.format; auto-detected when empty):
//   folder          data.train a folder-per-class root (io/dataset.h; Kermany's chest_xray too)
//   manifest        data.train a CSV manifest (io/manifest.h)
//   nih             Data_Entry_2017.csv; images found anywhere under data.images (default: the
//                   CSV's folder; images_001/images/... included), official train_val_list.txt /
//                   test_list.txt beside the CSV when present
//   chexpert        train.csv (+ valid.csv beside it: the validation split); paths relative to the
//                   folder holding CheXpert-v1.0* (data.images, default: that folder)
//   mimic-cxr-jpg   mimic-cxr-2.0.0-chexpert.csv joined with -metadata.csv and -split.csv beside it
//                   (each .csv or .csv.gz); images under data.images (default: the CSV's folder)
//                   at files/pXX/pSUBJECT/sSTUDY/DICOM.jpg
//   rsna-pneumonia  stage_2_train_labels.csv, one label Pneumonia per patientId; images
//                   <patientId>.dcm under data.images (default: stage_2_train_images beside the
//                   CSV, else the CSV's folder)
// For the four official layouts data.val / data.test are not used: the layout decides. Without
// an official split validation is a seeded patient-level fraction (data.val_split, 0.1 when 0).
// data.labels picks and orders labels (default all); data.uncertain maps CheXpert/MIMIC −1
// (ignore: kIgnoredTarget, a masked target; ones; zeros); blank is negative. data.views keeps
// the listed views (PA, AP, LATERAL, ...) where the layout records one. An image listed but
// absent: UsageError naming the CSV line, or with skip_bad_files counted in the summary.
// Every sample of an official layout carries the subgroup attributes its label CSV records
// (Sample::attributes, Dataset::attribute_names: io/subgroup_attributes.h lists them).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/data_splits.h"

namespace cxr {

struct LayoutRequest {
  std::string format;  // "" = detect
  std::string train;   // folder, manifest or the layout's label CSV
  std::optional<std::string> val, test;
  std::optional<std::string> images;
  std::vector<std::string> labels, views;
  std::vector<std::string> labels_where;  // per label: where it was written ("FILE:LINE:COL"), for errors
  std::string uncertain = "ignore";  // ignore | ones | zeros
  bool skip_bad_files = false;       // data.on_bad_file: skip
  double val_split = 0;
  uint64_t seed = 0;
  bool whole_file = false;  // resolve_test_data: data.train alone (CheXpert's valid.csv beside it not added)
};

struct LabelCounts {
  int64_t positive = 0, negative = 0, ignored = 0;
};

struct DataSummary {
  std::string format, source;
  std::vector<std::string> labels;
  int64_t train = 0, val = 0, test = 0;
  std::vector<LabelCounts> counts;   // per label, all splits together
  std::vector<std::string> skipped;  // "FILE:LINE: reason", each file once
  int64_t filtered_by_view = 0;
  // Several lines for stderr; lists at most `max_named` skipped files (then a count).
  std::string text(size_t max_named = 20) const;
};

struct ResolvedData {
  DataSplits splits;
  DataSummary summary;
};

// The layout name for data.train: by the CSV header (Image Index + Finding Labels: nih; Path +
// Frontal/Lateral: chexpert; subject_id + study_id: mimic-cxr-jpg; patientId + Target:
// rsna-pneumonia; path: manifest) or folder for a directory. UsageError when none fits.
std::string detect_layout(const std::string& train);

// UsageError naming the file, line/column or recipe key for every refusal.
ResolvedData resolve_dataset(const LayoutRequest& request);

// What `cxrtune eval --data LABEL_FILE` scores for an official layout (request.format one of
// the four, request.train the label file): the layout's test split where it names one (NIH
// test_list.txt, MIMIC's split `test`), otherwise every image the file lists (CheXpert's
// valid.csv, RSNA, NIH without the lists). Labels, data.uncertain and data.views as for
// training; the samples carry the layout's subgroup attributes.
Dataset resolve_test_data(const LayoutRequest& request);

}  // namespace cxr
