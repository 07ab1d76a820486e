#include "io/image_folder_scan.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/errors.h"
#include "io/image_sniff.h"

namespace cxr {

namespace fs = std::filesystem;

std::vector<std::string> scan_image_files(const fs::path& dir, LeftOut& left_out, const std::string& context) {
  std::vector<std::string> files;
  std::error_code ec;
  std::set<fs::path> seen{fs::canonical(dir, ec)};
  if (ec) throw UsageError(context + ": cannot read folder " + dir.string() + ": " + ec.message());
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
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
      if (real_ec) throw UsageError(context + ": cannot read " + e.path().string() + ": " + real_ec.message());
      if (!seen.insert(real).second)
        throw UsageError(context + ": " + e.path().string() + " leads back to " + real.string() +
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
  if (ec) throw UsageError(context + ": cannot read folder " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

void print_left_out(const LeftOut& left_out, const std::string& root, const std::string& context) {
  if (left_out.empty()) return;
  int64_t total = 0;
  std::string kinds;
  for (const auto& [kind, n] : left_out) {
    total += n;
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
  }
  std::fprintf(stderr, "cxrtune: %s: left out %lld files under %s: %s\n", context.c_str(), static_cast<long long>(total),
               root.c_str(), kinds.c_str());
}

}  // namespace cxr
