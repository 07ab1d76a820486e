// Fast reading of one metrics.jsonl line without building a JSON tree: a 100,000-step file is
// mostly step records, and a SAX pass into reused buffers is several times faster than a DOM.
// A FlatRecord holds the top-level numbers (null → NaN), the top-level objects of numbers
// (lr, grad_norm, ...) and "kind". Anything deeper (arrays, objects in objects) sets `nested`:
// the caller then reads that line with the full parser. Strings other than "kind" and booleans
// are skipped (extra keys are tolerated).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace cxr::report {

struct FlatRecord {
  using Numbers = std::vector<std::pair<std::string, double>>;
  std::string kind;
  Numbers scalars;
  std::vector<std::pair<std::string, Numbers>> maps;
  bool nested = false;

  const double* scalar(const std::string& key) const;  // nullptr when absent
  const Numbers* map(const std::string& key) const;
};

// Parses `line` into `out` (cleared first, capacity kept). False when the line is not valid
// JSON or not an object.
bool parse_flat(const std::string& line, FlatRecord& out);

}  // namespace cxr::report
