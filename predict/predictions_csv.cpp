#include "predict/predictions_csv.h"

#include <unistd.h>

#include <filesystem>

#include "core/errors.h"
#include "io/csv.h"

namespace cxr {

namespace fs = std::filesystem;

PredictionsCsv::PredictionsCsv(std::string path, std::vector<std::string> classes)
    : path_(std::move(path)), classes_(std::move(classes)) {
  for (const std::string& c : classes_)
    if (c == "path" || c == "predicted")
      throw UsageError("predict: a class is named '" + c + "', which is also a column of the CSV");
  const fs::path dir = fs::path(path_).parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) throw UsageError("--out " + path_ + ": cannot create " + dir.string() + ": " + ec.message());
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) throw UsageError("--out " + path_ + ": cannot create " + tmp_);
  std::vector<std::string> header{"path"};
  header.insert(header.end(), classes_.begin(), classes_.end());
  header.push_back("predicted");
  const std::string row = csv_row(header);
  if (std::fwrite(row.data(), 1, row.size(), file_) != row.size()) throw RuntimeFailure("cannot write " + tmp_);
}

PredictionsCsv::~PredictionsCsv() {
  if (!file_) return;
  std::fclose(file_);
  std::error_code ec;
  fs::remove(tmp_, ec);
}

void PredictionsCsv::add(const std::string& relative, const std::vector<double>& probs, const std::vector<int64_t>& predicted) {
  std::vector<std::string> fields{relative};
  for (double p : probs) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", p);
    fields.push_back(buf);
  }
  std::string names;
  for (int64_t c : predicted) names += (names.empty() ? "" : ";") + classes_.at(static_cast<size_t>(c));
  fields.push_back(names);
  const std::string row = csv_row(fields);
  if (std::fwrite(row.data(), 1, row.size(), file_) != row.size()) throw RuntimeFailure("cannot write " + tmp_);
  ++rows_;
}

void PredictionsCsv::finish() {
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  if (ok) fs::rename(tmp_, path_, ec);
  if (!ok || ec) {
    fs::remove(tmp_, ec);
    throw RuntimeFailure("cannot write " + path_);
  }
}

}  // namespace cxr
