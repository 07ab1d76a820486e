#include "io/dataset.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "core/errors.h"
#include "io/image_folder_scan.h"

namespace cxr {

namespace fs = std::filesystem;

namespace {

// Attribute values are few (two sexes, six age bands, a handful of views and procedure names):
// one table for the process, a deque so that references handed out stay valid as it grows.
struct AttributeTable {
  std::mutex mutex;
  std::deque<std::string> text{std::string()};
  std::unordered_map<std::string, uint16_t> index{{std::string(), 0}};
};

AttributeTable& attribute_table() {
  static AttributeTable table;
  return table;
}

}  // namespace

uint16_t intern_attribute(const std::string& value) {
  if (value.empty()) return 0;
  AttributeTable& t = attribute_table();
  std::lock_guard<std::mutex> lock(t.mutex);
  const auto it = t.index.find(value);
  if (it != t.index.end()) return it->second;
  if (t.text.size() > 0xFFFF)
    throw UsageError("data: more than 65,535 distinct subgroup attribute values; a column with that many values "
                     "names individuals, not groups");
  const auto at = static_cast<uint16_t>(t.text.size());
  t.text.push_back(value);
  t.index.emplace(value, at);
  return at;
}

const std::string& attribute_text(uint16_t index) {
  AttributeTable& t = attribute_table();
  std::lock_guard<std::mutex> lock(t.mutex);
  return index < t.text.size() ? t.text[index] : t.text[0];
}

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const Sample& s : samples) {
    if (!multi_label) counts[static_cast<size_t>(s.label)]++;
    for (size_t k = 0; k < s.targets.size() && k < counts.size(); ++k) counts[k] += s.targets[k] >= 0.5f;
  }
  return counts;
}

std::vector<double> Dataset::class_weights() const {
  const auto counts = class_counts();
  std::vector<double> w(counts.size(), 0.0);
  for (size_t k = 0; k < counts.size(); ++k)
    if (counts[k] > 0)
      w[k] = static_cast<double>(samples.size()) / (static_cast<double>(counts.size()) * static_cast<double>(counts[k]));
  return w;
}

std::vector<double> Dataset::bce_pos_weights() const {
  std::vector<int64_t> pos(classes.size(), 0), neg(classes.size(), 0);
  for (const Sample& s : samples)
    for (size_t k = 0; k < s.targets.size() && k < classes.size(); ++k) {
      if (is_ignored_target(s.targets[k])) continue;
      (s.targets[k] >= 0.5f ? pos : neg)[k]++;
    }
  std::vector<double> w(classes.size(), 1.0);
  for (size_t k = 0; k < classes.size(); ++k)
    if (pos[k] > 0) w[k] = static_cast<double>(neg[k]) / static_cast<double>(pos[k]);
  return w;
}

std::string Dataset::summary() const {
  const auto counts = class_counts();
  std::string s;
  for (size_t k = 0; k < classes.size(); ++k)
    s += (k ? ", " : "") + classes[k] + " " + std::to_string(counts[k]);
  return s;
}

Dataset scan_folder_dataset(const std::string& root) {
  if (!fs::is_directory(root)) throw UsageError("data: " + root + " is not a folder");
  Dataset d;
  d.root = root;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && it->path().filename().string()[0] != '.')
      d.classes.push_back(it->path().filename().string());
  }
  if (ec) throw UsageError("data: cannot read " + root + ": " + ec.message());
  std::sort(d.classes.begin(), d.classes.end());
  if (d.classes.empty()) throw UsageError("data: " + root + " has no class folders (expected ROOT/<class>/<images>)");
  LeftOut left_out;
  for (size_t k = 0; k < d.classes.size(); ++k) {
    const std::vector<std::string> files = scan_image_files(fs::path(root) / d.classes[k], left_out, "data");
    if (files.empty())
      throw UsageError("data: class folder " + (fs::path(root) / d.classes[k]).string() +
                       " has no DICOM, PNG or JPEG files");
    for (const std::string& f : files)
      d.samples.push_back({f, fs::path(f).lexically_relative(root).string(), static_cast<int64_t>(k), {}, {}});
  }
  print_left_out(left_out, root, "data");
  return d;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double fraction, uint64_t seed) {
  Dataset a{all.root, all.classes, {}, all.multi_label, all.attribute_names, all.layout},
      b{all.root, all.classes, {}, all.multi_label, all.attribute_names, all.layout};
  std::mt19937_64 rng(seed ^ 0x5eedf00dull);
  for (size_t k = 0; k < all.classes.size(); ++k) {
    std::vector<const Sample*> mine;
    for (const Sample& s : all.samples)
      if (s.label == static_cast<int64_t>(k)) mine.push_back(&s);
    std::shuffle(mine.begin(), mine.end(), rng);
    const auto held = static_cast<size_t>(std::llround(fraction * static_cast<double>(mine.size())));
    for (size_t i = 0; i < mine.size(); ++i) (i < held ? b : a).samples.push_back(*mine[i]);
  }
  auto order = [](const Sample& x, const Sample& y) { return x.label != y.label ? x.label < y.label : x.path < y.path; };
  std::sort(a.samples.begin(), a.samples.end(), order);
  std::sort(b.samples.begin(), b.samples.end(), order);
  return {a, b};
}

}  // namespace cxr
