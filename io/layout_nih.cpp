// NIH ChestX-ray14 (Wang et al. 2017) as distributed: Data_Entry_2017.csv with "Finding Labels"
// A|B or "No Finding", the images in images_001/images/ ... images_012/images/ (or any other
// arrangement under data.images: the folder is indexed once, file name → path, rather than
// probing twelve folders per row), and the official train_val_list.txt / test_list.txt.
#include <filesystem>
#include <fstream>
#include <unordered_set>
#include <unordered_map>

#include "core/errors.h"
#include "io/layout_table.h"

namespace cxr::layout {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string>& nih_labels() {
  static const std::vector<std::string> labels{
      "Atelectasis", "Cardiomegaly", "Effusion",     "Infiltration", "Mass",     "Nodule",   "Pneumonia",
      "Pneumothorax", "Consolidation", "Edema",      "Emphysema",    "Fibrosis", "Pleural_Thickening", "Hernia"};
  return labels;
}

// Every regular file under `root`, file name → path relative to root. Two files of one name
// would make a row ambiguous: refused, naming both. The relative path is cut from the listed
// path (which starts with root), not computed with lexically_relative per file.
std::unordered_map<std::string, std::string> index_images(const fs::path& root) {
  std::unordered_map<std::string, std::string> index;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw UsageError("data.images: " + root.string() + " is not a folder");
  const std::string prefix = (root / "").string();
  fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string& full = it->path().native();
    std::string relative = full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : it->path().lexically_relative(root).string();
    const size_t slash = relative.rfind('/');
    std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (index.empty()) index.reserve(131072);
    auto [at, fresh] = index.emplace(std::move(name), std::move(relative));
    if (!fresh)
      throw UsageError("data.images: two images named " + at->first + " (" + at->second + " and " + full +
                       "): rows name images by file name only; remove one");
  }
  if (ec) throw UsageError("data.images: cannot read " + root.string() + ": " + ec.message());
  return index;
}

std::unordered_set<std::string> read_list(const fs::path& file) {
  std::unordered_set<std::string> names;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.insert(line);
  }
  return names;
}

}  // namespace

Rows read_nih(const LayoutRequest& r) {
  const Table t = read_table(r.train, "nih");
  const size_t c_image = t.column("Image Index"), c_labels = t.column("Finding Labels"), c_patient = t.column("Patient ID");
  const bool has_view = t.has("View Position");
  const size_t c_view = has_view ? t.column("View Position") : 0;
  const fs::path dir = fs::path(r.train).parent_path();
  Rows out;
  out.root = r.images ? *r.images : (dir.empty() ? std::string(".") : dir.string());
  out.labels = nih_labels();
  out.records_views = has_view;
  // Subgroup attributes: sex, age ("058Y" or "58"), view, and the three columns by name.
  const AttributeColumns attributes =
      attribute_columns(t, "Patient Gender", "Patient Age", has_view, {"Patient Gender", "Patient Age", "View Position"});
  out.attribute_names = attributes.names();
  const auto index = index_images(out.root);
  const std::string root_prefix = (fs::path(out.root) / "").string();
  const fs::path train_list = dir / "train_val_list.txt", test_list = dir / "test_list.txt";
  const bool official = fs::exists(train_list) && fs::exists(test_list);
  const std::unordered_set<std::string> trainval = official ? read_list(train_list) : std::unordered_set<std::string>{};
  const std::unordered_set<std::string> test = official ? read_list(test_list) : std::unordered_set<std::string>{};
  std::unordered_map<std::string, size_t> label_of;
  for (size_t k = 0; k < out.labels.size(); ++k) label_of[out.labels[k]] = k;
  out.rows.reserve(t.rows.size());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& f = t.rows[i];
    Row row;
    row.where = t.where(i);
    row.patient = f[c_patient];
    if (has_view) row.view = upper(f[c_view]);
    attributes.record(f, row);
    row.targets.assign(out.labels.size(), 0.0f);
    const std::string& findings = f[c_labels];
    if (findings != "No Finding") {
      for (size_t at = 0; at <= findings.size();) {
        const size_t bar = std::min(findings.find('|', at), findings.size());
        const std::string name = findings.substr(at, bar - at);
        const auto k = label_of.find(name);
        if (k == label_of.end())
          throw UsageError(row.where + ": 'Finding Labels' names '" + name + "', not one of the 14 ChestX-ray14 findings or 'No Finding'");
        row.targets[k->second] = 1.0f;
        at = bar + 1;
      }
    }
    const std::string& name = f[c_image];
    if (official) {
      if (test.count(name)) row.split = "test";
      else if (!trainval.count(name)) {
        out.skipped.push_back(row.where + ": " + name + " is in neither train_val_list.txt nor test_list.txt");
        continue;
      }
    }
    const auto found = index.find(name);
    if (found != index.end()) {
      row.relative = found->second;
      row.path = root_prefix + found->second;
    } else {
      row.relative = name;
    }
    row.checked = true;
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace cxr::layout
