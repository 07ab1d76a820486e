// The paired comparison of two models on the same test images, as `cxrtune compare` wrote it
// into a run's eval/compare.json (`cxrtune compare A B -o RUN_DIR/eval/compare.json`; the demo
// writes the pretrained run's). Keys read, nothing else: a, b (what compare was given), count,
// macro_of, per_class{class: {auroc_a, auroc_b, delta, ci95 [low, high], p_value, note}}, macro
// (the same fields). A missing file reads as absent; one that is not such a JSON object →
// UsageError naming it.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reports/run_reader.h"

namespace cxr::report {

struct PairedRow {
  std::string name, note;
  double auroc_a = std::numeric_limits<double>::quiet_NaN(), auroc_b = std::numeric_limits<double>::quiet_NaN();
  double delta = std::numeric_limits<double>::quiet_NaN(), lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN(), p_value = std::numeric_limits<double>::quiet_NaN();
};

struct PairedComparison {
  bool present = false;
  std::string file, a, b, macro_of;  // a, b: short names (the run directory of an eval output)
  int64_t count = 0;
  std::vector<PairedRow> per_class;
  PairedRow macro;
};

PairedComparison read_paired_comparison(const std::string& run_dir);

// One block per run of `runs` that has eval/compare.json: a sentence computed from the macro
// (binary: the positive class) row and the table of every row. Empty when none has one.
std::string paired_comparison_section(const std::vector<RunData>& runs);

}  // namespace cxr::report
