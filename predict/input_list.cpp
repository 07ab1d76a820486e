#include "predict/input_list.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/errors.h"
#include "io/csv.h"
#include "io/image_folder_scan.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

// The image files of one folder by content, as the dataset folder scan reads class folders.
std::vector<PredictInput> scan_folder(const std::string& root) {
  LeftOut left_out;
  std::vector<PredictInput> out;
  for (const std::string& f : scan_image_files(root, left_out, "predict"))
    out.push_back({f, fs::path(f).lexically_relative(root).string()});
  print_left_out(left_out, root, "predict");
  if (out.empty()) throw UsageError("predict: " + root + " holds no DICOM, PNG or JPEG file");
  return out;
}

std::vector<PredictInput> read_path_column(const std::string& csv_path) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) throw UsageError("predict: cannot open manifest " + csv_path);
  skip_utf8_bom(in);
  int64_t line = 1;
  std::vector<std::string> header, row;
  if (!read_csv_record(in, header, line)) throw UsageError(csv_path + ": empty manifest");
  const auto col = std::find(header.begin(), header.end(), "path");
  if (col == header.end()) throw UsageError(csv_path + ":1: the header needs a 'path' column");
  const size_t at = static_cast<size_t>(col - header.begin());
  const fs::path base = fs::path(csv_path).parent_path();
  std::vector<PredictInput> out;
  for (int64_t start = line; read_csv_record(in, row, line); start = line) {
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() != header.size())
      throw UsageError(csv_path + ":" + std::to_string(start) + ": " + std::to_string(row.size()) +
                       " fields, the header has " + std::to_string(header.size()));
    const fs::path p(row[at]);
    if (row[at].empty()) throw UsageError(csv_path + ":" + std::to_string(start) + ": empty path");
    out.push_back({(p.is_absolute() ? p : base / p).string(), row[at]});
  }
  if (out.empty()) throw UsageError(csv_path + ": no rows");
  return out;
}

// The name a file given by itself is reported and named by: the path as typed, made relative.
std::string own_name(const std::string& input) {
  fs::path p = fs::path(input).lexically_normal();
  if (p.has_root_path()) p = p.relative_path();
  return p.string();
}

bool climbs_out(const std::string& relative) {
  const fs::path p(relative);
  if (p.has_root_path()) return true;
  for (const auto& part : p.lexically_normal())
    if (part == "..") return true;
  return false;
}

}  // namespace

std::vector<PredictInput> list_inputs(const std::vector<std::string>& inputs) {
  if (inputs.empty()) throw UsageError("predict: give at least one INPUT (file, folder or CSV manifest)");
  std::vector<PredictInput> all;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (!fs::exists(status)) throw UsageError("predict: " + input + ": no such file or folder");
    std::vector<PredictInput> got;
    if (fs::is_directory(status)) got = scan_folder(input);
    else if (fs::path(input).extension() == ".csv") got = read_path_column(input);
    else got.push_back({input, own_name(input)});
    for (PredictInput& g : got) {
      if (climbs_out(g.relative))
        throw UsageError("predict: " + input + ": '" + g.relative +
                         "' leads outside its folder; outputs named after it could land anywhere");
      all.push_back(std::move(g));
    }
  }
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto [it, fresh] = names.emplace(fs::path(all[i].relative).lexically_normal().string(), i);
    if (!fresh)
      throw UsageError("predict: " + all[it->second].path + " and " + all[i].path + " are both named '" + all[i].relative +
                       "' (paths are relative to each INPUT); give them in separate runs or as one folder");
  }
  return all;
}

}  // namespace cxr
