// predict's CSV (RFC 4180, every field quoted, io/csv.h): the header `path`, one column per
// class named by the class, `predicted`; then one row per scored image in input order: its
// relative path (input_list.h), the probabilities to 9 significant digits (enough to give back
// the float32 the network computed, and the double softmax/sigmoid of it within 1e-9), and the
// predicted classes (single-label: one name; multi-label: the labels over their threshold joined
// by ';', empty when none). Nothing else: no DICOM tag, no patient identifier.
// Rows are streamed into PATH.tmp.<pid> and the file is renamed to PATH by finish(), so a run
// that fails leaves no half-written predictions behind. Failure modes: UsageError when a class
// is named `path` or `predicted` (its column would be ambiguous) or the folder cannot be
// created; RuntimeFailure naming the file on an I/O error.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cxr {

class PredictionsCsv {
 public:
  PredictionsCsv(std::string path, std::vector<std::string> classes);
  ~PredictionsCsv();  // removes the temporary file when finish() was not reached
  PredictionsCsv(const PredictionsCsv&) = delete;
  PredictionsCsv& operator=(const PredictionsCsv&) = delete;

  void add(const std::string& relative, const std::vector<double>& probs, const std::vector<int64_t>& predicted);
  void finish();
  int64_t rows() const { return rows_; }

 private:
  std::string path_, tmp_;
  std::vector<std::string> classes_;
  std::FILE* file_ = nullptr;
  int64_t rows_ = 0;
};

}  // namespace cxr
