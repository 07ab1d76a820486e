#include "io/dataset_layouts.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "core/did_you_mean.h"
#include "core/errors.h"
#include "io/layout_table.h"
#include "io/patient_groups.h"

namespace cxr {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string>& layout_names() {
  static const std::vector<std::string> names{"folder", "manifest", "nih", "chexpert", "mimic-cxr-jpg", "rsna-pneumonia"};
  return names;
}

// Positions of the requested labels in `all` (all of them when none is requested). An error
// names where the label was written (LayoutRequest::labels_where) and the nearest label.
std::vector<size_t> pick_labels(const std::vector<std::string>& all, const LayoutRequest& r, const std::string& layout) {
  std::vector<size_t> pos;
  if (r.labels.empty()) {
    for (size_t k = 0; k < all.size(); ++k) pos.push_back(k);
    return pos;
  }
  for (size_t i = 0; i < r.labels.size(); ++i) {
    const std::string& w = r.labels[i];
    const std::string where = i < r.labels_where.size() && !r.labels_where[i].empty() ? r.labels_where[i] + ": " : "";
    const auto it = std::find(all.begin(), all.end(), w);
    if (it == all.end()) {
      std::string list;
      for (const std::string& a : all) list += (list.empty() ? "" : ", ") + a;
      const std::string hint = closest_name(w, all);
      throw UsageError(where + "data.labels: '" + w + "' is not a label of the " + layout + " layout" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; available: " + list);
    }
    if (std::find(pos.begin(), pos.end(), static_cast<size_t>(it - all.begin())) != pos.end())
      throw UsageError(where + "data.labels: '" + w + "' is listed twice");
    pos.push_back(static_cast<size_t>(it - all.begin()));
  }
  return pos;
}

std::vector<float> select(const std::vector<float>& v, const std::vector<size_t>& pos) {
  std::vector<float> out;
  for (size_t p : pos) out.push_back(v[p]);
  return out;
}

void count(const Dataset& d, DataSummary& s) {
  s.counts.resize(s.labels.size());
  for (const Sample& x : d.samples) {
    if (!d.multi_label) {
      for (size_t k = 0; k < s.counts.size(); ++k) (static_cast<int64_t>(k) == x.label ? s.counts[k].positive : s.counts[k].negative)++;
      continue;
    }
    for (size_t k = 0; k < x.targets.size() && k < s.counts.size(); ++k) {
      const float t = x.targets[k];
      (is_ignored_target(t) ? s.counts[k].ignored : t >= 0.5f ? s.counts[k].positive : s.counts[k].negative)++;
    }
  }
}

void finish_summary(ResolvedData& out) {
  DataSummary& s = out.summary;
  s.labels = out.splits.train.classes;
  s.train = static_cast<int64_t>(out.splits.train.samples.size());
  s.val = static_cast<int64_t>(out.splits.val.samples.size());
  s.test = out.splits.test ? static_cast<int64_t>(out.splits.test->samples.size()) : 0;
  count(out.splits.train, s);
  count(out.splits.val, s);
  if (out.splits.test) count(*out.splits.test, s);
}

// A layout's rows that training or evaluation can use: data.views applied, absent images
// refused or (skip_bad_files) counted in `s`.
std::vector<layout::Row> usable_rows(layout::Rows& rows, const LayoutRequest& r, const std::string& format, DataSummary& s) {
  s.format = format;
  s.source = r.train;
  s.skipped = std::move(rows.skipped);
  if (!r.views.empty() && !rows.records_views)
    throw UsageError("data.views: the " + format + " layout's label file does not record the view; remove data.views");
  std::set<std::string> views;
  for (const std::string& v : r.views) views.insert(layout::upper(v));
  std::vector<layout::Row> kept;
  kept.reserve(rows.rows.size());
  for (layout::Row& row : rows.rows) {
    if (!views.empty() && !views.count(row.view)) {
      ++s.filtered_by_view;
      continue;
    }
    std::error_code ec;
    const bool present = row.checked ? !row.path.empty() : fs::is_regular_file(row.path, ec);
    if (!present) {
      const std::string why = row.where + ": image " + row.relative + " not found under " + rows.root;
      if (!r.skip_bad_files) throw UsageError(why + " (data.on_bad_file: skip leaves it out)");
      s.skipped.push_back(why);
      continue;
    }
    kept.push_back(std::move(row));
  }
  if (kept.empty()) throw UsageError(r.train + ": no images left to use (see the files skipped and data.views)");
  return kept;
}

layout::Rows read_rows(const LayoutRequest& r, const std::string& format) {
  return format == "nih"             ? layout::read_nih(r)
         : format == "chexpert"      ? layout::read_chexpert(r)
         : format == "mimic-cxr-jpg" ? layout::read_mimic(r)
                                     : layout::read_rsna(r);
}

Sample sample_of(layout::Row& row, const std::vector<size_t>& pos, std::string patient_key) {
  Sample x{std::move(row.path), std::move(row.relative), 0, select(row.targets, pos), std::move(patient_key)};
  x.attributes = row.attributes;
  return x;
}

Dataset empty_layout_set(const layout::Rows& rows, const std::vector<size_t>& pos, const std::string& format) {
  std::vector<std::string> names;
  for (size_t p : pos) names.push_back(rows.labels[p]);
  return Dataset{rows.root, names, {}, true, rows.attribute_names, format};
}

ResolvedData resolve_official(const LayoutRequest& r, const std::string& format) {
  layout::Rows rows = read_rows(r, format);
  ResolvedData out;
  DataSummary& s = out.summary;
  const std::vector<size_t> pos = pick_labels(rows.labels, r, format);
  std::vector<layout::Row> kept = usable_rows(rows, r, format, s);
  // Rows the layout left without a split: whole patients held out for validation.
  std::vector<std::string> open;
  for (size_t i = 0; i < kept.size(); ++i)
    if (kept[i].split.empty()) open.push_back(kept[i].patient.empty() ? "#" + std::to_string(i) : kept[i].patient);
  const std::set<std::string> held = held_out_groups(open, r.val_split > 0 ? r.val_split : 0.1, r.seed);
  const std::string salt = dataset_salt(rows.root);
  std::unordered_map<std::string, std::string> keys;  // patient → key: patients have many images
  auto key_of = [&](const std::string& patient) -> const std::string& {
    auto it = keys.find(patient);
    if (it == keys.end()) it = keys.emplace(patient, patient_key(salt, patient)).first;
    return it->second;
  };
  for (Dataset* d : {&out.splits.train, &out.splits.val}) *d = empty_layout_set(rows, pos, format);
  Dataset test = empty_layout_set(rows, pos, format);
  for (size_t i = 0; i < kept.size(); ++i) {
    layout::Row& row = kept[i];
    std::string split = row.split;
    if (split.empty()) split = held.count(row.patient.empty() ? "#" + std::to_string(i) : row.patient) ? "val" : "train";
    Sample x = sample_of(row, pos, key_of(row.patient));
    (split == "val" ? out.splits.val : split == "test" ? test : out.splits.train).samples.push_back(std::move(x));
  }
  if (out.splits.train.samples.empty() || out.splits.val.samples.empty())
    throw UsageError(r.train + ": the " + format + " layout gave " + std::to_string(out.splits.train.samples.size()) +
                     " training and " + std::to_string(out.splits.val.samples.size()) +
                     " validation images; both must be non-empty (data.val_split, data.views)");
  if (!test.samples.empty()) out.splits.test = std::move(test);
  finish_summary(out);
  return out;
}

// data.labels on a multi-label manifest: the same selection, applied to each split.
void select_manifest_labels(DataSplits& d, const LayoutRequest& r) {
  if (r.labels.empty()) return;
  if (!d.train.multi_label) throw UsageError("data.labels: applies to multi-label data; this data set has classes " + d.train.summary());
  const std::vector<size_t> pos = pick_labels(d.train.classes, r, "manifest");
  for (Dataset* x : {&d.train, &d.val, d.test ? &*d.test : nullptr}) {
    if (!x) continue;
    std::vector<std::string> names;
    for (size_t p : pos) names.push_back(x->classes[p]);
    x->classes = names;
    for (Sample& s : x->samples) s.targets = select(s.targets, pos);
  }
}

}  // namespace

std::string detect_layout(const std::string& train) {
  if (fs::is_directory(train)) return "folder";
  const std::vector<std::string> h = layout::read_header(train);
  auto has = [&](const char* name) { return std::find(h.begin(), h.end(), name) != h.end(); };
  if (has("Image Index") && has("Finding Labels")) return "nih";
  if (has("Path") && has("Frontal/Lateral")) return "chexpert";
  if (has("subject_id") && has("study_id")) return "mimic-cxr-jpg";
  if (has("patientId") && has("Target")) return "rsna-pneumonia";
  if (has("path")) return "manifest";
  if (!fs::exists(train)) throw UsageError("data.train: " + train + " does not exist");
  throw UsageError("data.train: cannot tell the layout of " + train +
                   " from its header; set data.format (folder, manifest, nih, chexpert, mimic-cxr-jpg, rsna-pneumonia)");
}

ResolvedData resolve_dataset(const LayoutRequest& r) {
  const std::string format = r.format.empty() ? detect_layout(r.train) : r.format;
  if (std::find(layout_names().begin(), layout_names().end(), format) == layout_names().end())
    throw UsageError("data.format: '" + format + "' is not one of folder, manifest, nih, chexpert, mimic-cxr-jpg, rsna-pneumonia");
  if (format != "folder" && format != "manifest") return resolve_official(r, format);
  if (!r.views.empty()) throw UsageError("data.views: the " + format + " layout does not record views");
  if (r.images) throw UsageError("data.images: applies to the nih, chexpert, mimic-cxr-jpg and rsna-pneumonia layouts");
  if ((format == "manifest") != is_manifest_path(r.train))
    throw UsageError("data.format: " + format + " but data.train " + r.train + " is " +
                     (is_manifest_path(r.train) ? "a .csv manifest" : "not a .csv manifest"));
  ResolvedData out;
  out.splits = resolve_data_splits({r.train, r.val, r.test, r.val_split, r.seed});
  select_manifest_labels(out.splits, r);
  out.summary.format = format;
  out.summary.source = r.train;
  finish_summary(out);
  return out;
}

Dataset resolve_test_data(const LayoutRequest& request) {
  LayoutRequest r = request;
  r.whole_file = true;
  const std::string format = r.format.empty() ? detect_layout(r.train) : r.format;
  if (format == "folder" || format == "manifest" ||
      std::find(layout_names().begin(), layout_names().end(), format) == layout_names().end())
    throw std::logic_error("resolve_test_data: " + format + " is not an official layout");
  layout::Rows rows = read_rows(r, format);
  DataSummary s;
  const std::vector<size_t> pos = pick_labels(rows.labels, r, format);
  std::vector<layout::Row> kept = usable_rows(rows, r, format, s);
  const bool has_test = std::any_of(kept.begin(), kept.end(), [](const layout::Row& x) { return x.split == "test"; });
  if (!s.skipped.empty()) std::fprintf(stderr, "%s", s.text().c_str());
  const std::string salt = dataset_salt(rows.root);
  Dataset out = empty_layout_set(rows, pos, format);
  for (layout::Row& row : kept)
    if (!has_test || row.split == "test") out.samples.push_back(sample_of(row, pos, patient_key(salt, row.patient)));
  return out;
}

std::string DataSummary::text(size_t max_named) const {
  std::string s = "dataset: " + format + " (" + source + "), " + std::to_string(labels.size()) + " labels\n";
  s += "samples: train " + std::to_string(train) + ", val " + std::to_string(val) + ", test " + std::to_string(test) + "\n";
  size_t width = 5;
  for (const std::string& l : labels) width = std::max(width, l.size());
  auto pad = [](std::string v, size_t w) { return v.size() < w ? v + std::string(w - v.size(), ' ') : v; };
  s += "  " + pad("label", width) + "  positive  negative   ignored\n";
  for (size_t k = 0; k < labels.size() && k < counts.size(); ++k) {
    auto num = [](int64_t v) {
      const std::string t = std::to_string(v);
      return std::string(t.size() < 8 ? 8 - t.size() : 0, ' ') + t;
    };
    s += "  " + pad(labels[k], width) + "  " + num(counts[k].positive) + "  " + num(counts[k].negative) + "  " +
         num(counts[k].ignored) + "\n";
  }
  if (filtered_by_view > 0) s += "left out by data.views: " + std::to_string(filtered_by_view) + "\n";
  s += "files skipped: " + std::to_string(skipped.size()) + "\n";
  for (size_t i = 0; i < skipped.size() && i < max_named; ++i) s += "  " + skipped[i] + "\n";
  if (skipped.size() > max_named) s += "  ... and " + std::to_string(skipped.size() - max_named) + " more\n";
  return s;
}

}  // namespace cxr
