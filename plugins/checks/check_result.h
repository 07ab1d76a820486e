// The outcome of one check of one registry entry (plugins/checks): a finite-difference
// gradcheck of an op's reference, or the parity of one (op, backend, precision) against it.
// Shared by the test suite (one gtest per row) and `cxrtune check-plugin` (one table line).
#pragma once
#include <cmath>
#include <string>
#include <vector>

namespace cxr::checks {

struct CheckRow {
  std::string kind;       // "gradcheck" | "parity"
  std::string op, backend;
  std::string precision;  // "f32", "bf16", "f16", "f32/winograd"; gradcheck: "fd"
  bool passed = false;
  bool skipped = false;   // could not run here (no GPU, no bf16 ISA): neither pass nor fail
  std::string skip_reason;
  double worst = 0;       // the largest relative error seen
  double tolerance = 0;   // what `worst` had to stay below
  std::string worst_where;  // the case and tensor of `worst`, e.g. "conv2d(3->16, k7 s2 p3) d weight"
  int runs = 0;             // cases × modes run
  std::vector<std::string> failures;  // one line per tensor over tolerance (the first 20)

  void fail(const std::string& what) {
    passed = false;
    if (failures.size() < 20) failures.push_back(what);
  }
  // Records err for `where`; a failure when it is not below the tolerance (NaN fails too).
  void record(double err, const std::string& where) {
    if (worst_where.empty() || err > worst || std::isnan(err)) worst = err, worst_where = where;
    if (!(err < tolerance))
      fail(where + ": relative error " + std::to_string(err) + " (tolerance " + std::to_string(tolerance) + ")");
  }
};

}  // namespace cxr::checks
