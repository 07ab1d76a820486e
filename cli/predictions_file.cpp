#include "cli/predictions_file.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "io/csv.h"

namespace cxr::cli {

ScoredSet read_predictions_file(const std::string& file) {
  namespace fs = std::filesystem;
  const fs::path csv = fs::path(file).extension() == ".json" ? fs::path(file).parent_path() / "predictions.csv" : fs::path(file);
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw UsageError(file + ": cannot read " + csv.string() + " (eval writes it beside metrics.json)");
  std::vector<std::string> f;
  int64_t line = 1;
  if (!read_csv_record(in, f, line) || f.size() < 3 || f[0] != "path" || (f[1] != "label" && f[1] != "labels"))
    throw UsageError(csv.string() + ": not an eval predictions.csv (expected the header path, label, p_<class>...)");
  ScoredSet s;
  s.multi_label = f[1] == "labels";
  const bool has_ignored = f[2] == "ignored";  // masked labels, written when some label is masked
  const size_t first_p = has_ignored ? 3 : 2;
  for (size_t k = first_p; k < f.size(); ++k) s.classes.push_back(f[k].rfind("p_", 0) == 0 ? f[k].substr(2) : f[k]);
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < s.classes.size(); ++k) index[s.classes[k]] = k;
  std::map<std::string, int64_t> seen;
  while (read_csv_record(in, f, line)) {
    const std::string at = csv.string() + ":" + std::to_string(line) + ": ";
    if (f.size() != s.classes.size() + first_p)
      throw UsageError(at + "expected " + std::to_string(s.classes.size() + first_p) + " fields");
    if (seen.count(f[0])) throw UsageError(at + "path " + f[0] + " repeats line " + std::to_string(seen[f[0]]));
    seen[f[0]] = line;
    std::vector<double> t(s.classes.size(), 0.0), p;
    std::stringstream labels(f[1]);
    for (std::string name; std::getline(labels, name, ';');) {
      if (!index.count(name)) throw UsageError(at + "label '" + name + "' is not one of the classes");
      t[index[name]] = 1.0;
    }
    if (has_ignored) {
      std::stringstream ignored(f[2]);
      for (std::string name; std::getline(ignored, name, ';');) {
        if (!index.count(name)) throw UsageError(at + "ignored label '" + name + "' is not one of the classes");
        if (t[index[name]] > 0) throw UsageError(at + "label '" + name + "' is both true and ignored");
        t[index[name]] = -1.0;  // masked, as ScoredSet holds it
      }
    }
    for (size_t k = first_p; k < f.size(); ++k) try {
        size_t used = 0;
        p.push_back(std::stod(f[k], &used));
        if (used != f[k].size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw UsageError(at + "probability '" + f[k] + "' is not a number");
      }
    s.ids.push_back(f[0]);
    s.targets.push_back(std::move(t));
    s.probs.push_back(std::move(p));
  }
  if (s.ids.empty()) throw UsageError(csv.string() + ": no predictions");
  return s;
}

ScoredSet match_samples(const ScoredSet& a, const ScoredSet& b, const std::string& name_a, const std::string& name_b) {
  const std::string both = "compare: " + name_a + " and " + name_b;
  if (a.classes != b.classes) throw UsageError(both + " have different classes");
  if (a.ids.size() != b.ids.size())
    throw UsageError(both + " score different samples (" + std::to_string(a.ids.size()) + " and " +
                     std::to_string(b.ids.size()) + " images)");
  std::map<std::string, size_t> in_b;
  for (size_t i = 0; i < b.ids.size(); ++i) in_b[b.ids[i]] = i;
  ScoredSet out = b;
  for (size_t i = 0; i < a.ids.size(); ++i) {
    const auto it = in_b.find(a.ids[i]);
    if (it == in_b.end()) throw UsageError(both + " score different samples: " + a.ids[i] + " is only in " + name_a);
    if (b.targets[it->second] != a.targets[i]) throw UsageError(both + " label " + a.ids[i] + " differently");
    out.ids[i] = b.ids[it->second], out.probs[i] = b.probs[it->second], out.targets[i] = b.targets[it->second];
  }
  return out;
}

}  // namespace cxr::cli
