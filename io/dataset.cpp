#include "io/dataset.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/errors.h"
#include "io/image_sniff.h"

namespace cxr {

namespace fs = std::filesystem;

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

namespace {

// What a folder scan passed over, by kind ("DICOMDIR", "not an image", "hidden file", ...).
using LeftOut = std::map<std::string, int64_t>;

// The image files under one class folder, sorted, told by content (image_sniff.h), whatever their
// names: PACS exports name DICOM files by UID with no extension. Hidden files and folders are
// passed over unread. Directory symlinks are followed (data sets are
// often assembled from links), so a link that leads back into a folder already read, a loop,
// would recurse until the OS gives up with ELOOP: it is refused by name instead. Any error while
// listing is a UsageError naming the folder, never a raw filesystem_error.
std::vector<std::string> image_files(const fs::path& class_dir, LeftOut& left_out) {
  std::vector<std::string> files;
  std::error_code ec;
  std::set<fs::path> seen{fs::canonical(class_dir, ec)};
  if (ec) throw UsageError("data: cannot read class folder " + class_dir.string() + ": " + ec.message());
  fs::recursive_directory_iterator it(class_dir, fs::directory_options::follow_directory_symlink, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::error_code type_ec;
    const bool hidden = e.path().filename().string().starts_with(".");
    if (e.is_directory(type_ec)) {
      if (hidden) {
        it.disable_recursion_pending();
        continue;
      }
      std::error_code real_ec;
      const fs::path real = fs::canonical(e.path(), real_ec);
      if (real_ec) throw UsageError("data: cannot read " + e.path().string() + ": " + real_ec.message());
      if (!seen.insert(real).second)
        throw UsageError("data: " + e.path().string() + " leads back to " + real.string() +
                         ", a folder already read: a symbolic-link loop (or a second link to the same images); "
                         "remove the link");
      continue;
    }
    if (!e.is_regular_file(type_ec)) continue;
    if (hidden) {
      ++left_out["hidden file"];
      continue;
    }
    const ImageKind kind = sniff_image_file(e.path().string());
    if (is_image(kind)) files.push_back(e.path().string());
    else ++left_out[image_kind_name(kind)];
  }
  if (ec) throw UsageError("data: cannot read class folder " + class_dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

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
    const std::vector<std::string> files = image_files(fs::path(root) / d.classes[k], left_out);
    if (files.empty())
      throw UsageError("data: class folder " + (fs::path(root) / d.classes[k]).string() +
                       " has no DICOM, PNG or JPEG files");
    for (const std::string& f : files)
      d.samples.push_back({f, fs::path(f).lexically_relative(root).string(), static_cast<int64_t>(k), {}, {}});
  }
  if (!left_out.empty()) {
    int64_t total = 0;
    std::string kinds;
    for (const auto& [kind, n] : left_out) {
      total += n;
      kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
    }
    std::fprintf(stderr, "cxrtune: data: left out %lld files under %s: %s\n", static_cast<long long>(total),
                 root.c_str(), kinds.c_str());
  }
  return d;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double fraction, uint64_t seed) {
  Dataset a{all.root, all.classes, {}, all.multi_label}, b{all.root, all.classes, {}, all.multi_label};
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
