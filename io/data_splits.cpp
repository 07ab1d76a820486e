#include "io/data_splits.h"

#include "core/errors.h"
#include "io/manifest.h"

namespace cxr {

bool is_manifest_path(const std::string& path) {
  if (path.size() <= 4) return false;
  std::string ext = path.substr(path.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".csv";
}

DataSplits resolve_data_splits(const DataSources& s) {
  DataSplits out;
  if (is_manifest_path(s.train)) {
    ManifestSplits m = read_manifest(s.train, s.val_split > 0 ? s.val_split : 0.1, s.seed);
    if (m.val.samples.empty())
      throw UsageError(s.train + ": no validation rows (add a split column with val rows, or set data.val_split)");
    if (!m.test.samples.empty() && s.test)
      throw UsageError("data.test: " + s.train + " has its own split: test rows (" + std::to_string(m.test.samples.size()) +
                       "); set data.test to null or remove those rows");
    out.train = std::move(m.train);
    out.val = std::move(m.val);
    if (!m.test.samples.empty()) out.test = std::move(m.test);
  } else if (s.val_split > 0 || !s.val) {
    if (s.val_split <= 0) throw UsageError("data.val is null: set data.val_split (e.g. 0.1) or a val folder");
    auto [rest, held] = split_dataset(scan_folder_dataset(s.train), s.val_split, s.seed);
    out.train = std::move(rest);
    out.val = std::move(held);
  } else {
    out.train = scan_folder_dataset(s.train);
    out.val = scan_folder_dataset(*s.val);
    if (out.val.classes != out.train.classes)
      throw UsageError("data: the val classes differ from the train classes (" + s.train + ": " + out.train.summary() +
                       "; " + *s.val + ": " + out.val.summary() + ")");
  }
  if (s.test) {
    out.test = scan_folder_dataset(*s.test);
    if (out.test->classes != out.train.classes)
      throw UsageError("data.test: the classes of " + *s.test + " (" + out.test->summary() +
                       ") differ from the train classes (" + out.train.summary() + ")");
  }
  return out;
}

Dataset read_test_data(const std::string& folder_or_manifest) {
  if (!is_manifest_path(folder_or_manifest)) return scan_folder_dataset(folder_or_manifest);
  ManifestSplits m = read_manifest(folder_or_manifest, 0, 0);
  if (m.test.samples.empty())
    throw UsageError(folder_or_manifest + ": no rows with split: test to evaluate (the manifest needs a split column)");
  return std::move(m.test);
}

}  // namespace cxr
