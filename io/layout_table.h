// What the official-layout readers (io/layout_*.cpp) share: a label CSV read whole into rows
// with their line numbers (UTF-8 BOM skipped, `.csv.gz` inflated), columns required by name with
// an error naming the file, the column and the layout, and the CheXpert-style 1 / 0 / −1 / blank
// observation mapped under data.uncertain. Internal to io/; dataset_layouts.h is the interface.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/dataset.h"
#include "io/dataset_layouts.h"

namespace cxr::layout {

struct Table {
  std::string file, layout;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines;  // the line each row starts on (the header is line 1)

  // The column's index; UsageError "FILE: the LAYOUT layout needs a column 'NAME'" otherwise.
  size_t column(const std::string& name) const;
  bool has(const std::string& name) const;
  std::string where(size_t row) const { return file + ":" + std::to_string(lines[row]); }
};

// UsageError when the file cannot be read or a row has another number of fields than the header.
Table read_table(const std::string& file, const std::string& layout);
// Just the header (format detection), empty when unreadable.
std::vector<std::string> read_header(const std::string& file);
// `dir/name` or `dir/name.gz`, whichever exists (the plain name when neither does).
std::string beside(const std::string& dir, const std::string& name);

// One image of a layout before splitting.
struct Row {
  std::string path;         // the image file; empty when the layout's index has no such file
  std::string relative;     // relative to the dataset root (what outputs show)
  std::string split;        // train | val | test; empty: the seeded patient-level split decides
  std::string patient;      // raw id, for grouping and hashing only
  std::string view;         // upper case (PA, AP, LATERAL, ...); empty when not recorded
  std::vector<float> targets;  // one per label of the layout's full list
  std::string where;        // FILE:LINE of the row that named it
  bool checked = false;     // the reader already knows the file exists
  SampleAttributes attributes{};  // slots named by Rows::attribute_names (io/dataset.h)
};

struct Rows {
  std::string root;                 // dataset root: paths are relative to it
  std::vector<std::string> labels;  // the layout's full label list, in its order
  bool records_views = true;
  std::vector<Row> rows;
  std::vector<std::string> skipped;  // "FILE:LINE: reason" for rows the reader dropped
  std::vector<std::string> attribute_names;  // what Row::attributes hold (Dataset::attribute_names)
};

// The subgroup attributes a layout records from one table: the standard sex / age / view
// (normalised as for DICOM: io/subgroup_attributes.h) from the named columns when the table has
// them, then the layout's own columns that the table has, raw, by header name. Only columns a
// reader names here are ever kept: identifying ones (patient and study ids, paths, dates) never are.
struct AttributeColumns {
  enum class Kind { Sex, Age, View, Raw };
  struct Slot {
    std::string name;
    Kind kind;
    size_t column;  // unused for View: the row's own view (CheXpert's comes from two columns)
  };
  std::vector<Slot> slots;
  std::vector<std::string> names() const;
  // Fills row.attributes from the row's fields; row.view must already be set.
  void record(const std::vector<std::string>& fields, Row& row) const;
};
// `sex` / `age`: column names ("" when the layout has none); `view`: whether Row::view is recorded.
AttributeColumns attribute_columns(const Table& t, const std::string& sex, const std::string& age, bool view,
                                   const std::vector<std::string>& own);

Rows read_nih(const LayoutRequest& r);
Rows read_chexpert(const LayoutRequest& r);
Rows read_mimic(const LayoutRequest& r);
Rows read_rsna(const LayoutRequest& r);

// The 14 observations of the CheXpert labeler, in CheXpert's column order (MIMIC-CXR-JPG uses
// the same names and order).
const std::vector<std::string>& chexpert_labels();
// "1.0"/"1" → 1, "0.0"/"0" → 0, "" → 0 (not mentioned: negative), "-1.0"/"-1" → by policy
// (ignore: kIgnoredTarget, ones: 1, zeros: 0); anything else a UsageError naming `where` and the column.
float observation(const std::string& value, const std::string& uncertain, const std::string& where,
                  const std::string& column);
std::string upper(std::string s);

}  // namespace cxr::layout
