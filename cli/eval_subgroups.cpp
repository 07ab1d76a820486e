#include "cli/eval_subgroups.h"

#include <algorithm>
#include <filesystem>

#include "cli/eval_statistics.h"
#include "core/errors.h"
#include "engine/delong.h"
#include "engine/subgroups.h"
#include "io/subgroup_attributes.h"
#include "job/metrics_json.h"

namespace cxr::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Samples of class k that count (a masked multi-label target, below 0, counts for neither side).
bool counts_for(const ScoredSet& s, size_t i, size_t k) { return s.targets[i].at(k) >= 0; }

json class_json(const ScoredSet& s, const Subgroup& g, size_t k) {
  std::vector<double> scores;
  std::vector<bool> positive;
  for (int64_t i : g.indices) {
    const auto n = static_cast<size_t>(i);
    if (!counts_for(s, n, k)) continue;
    scores.push_back(s.probs[n].at(k));
    positive.push_back(s.targets[n].at(k) > 0.5);
  }
  int64_t pos = 0;
  for (bool p : positive) pos += p;
  json j = {{"positives", pos}, {"negatives", static_cast<int64_t>(positive.size()) - pos}};
  if (!g.scored()) return j;
  if (pos == 0 || pos == static_cast<int64_t>(positive.size())) {
    j["auroc"] = nullptr;
    j["auroc_ci95"] = nullptr;
    j["auroc_note"] = "the group has no " + std::string(pos == 0 ? "positives" : "negatives") + " of this class";
    return j;
  }
  const AurocInterval a = delong_auroc(scores, positive);
  j["auroc"] = number_json(a.auc);
  j["auroc_ci95"] = json::array({number_json(a.lower), number_json(a.upper)});
  if (!a.defined()) j["auroc_ci95_note"] = a.reason;
  return j;
}

// Where the values came from: the layout's label file when it records the key.
std::string source_of(const SubgroupKey& key, const Dataset& data, const std::string& manifest) {
  const bool recorded = std::find(data.attribute_names.begin(), data.attribute_names.end(), key.name) != data.attribute_names.end();
  if (recorded) return "the " + data.layout + " layout's label file" + (key.dicom ? " (" + key.name + ", normalised as for DICOM)" : ", column " + key.name);
  if (!key.dicom && !manifest.empty()) return "column " + key.name + " of " + fs::path(manifest).filename().string();
  return key.source;
}

}  // namespace

void check_subgroup_keys(const std::vector<std::string>& keys) { parse_subgroup_keys(keys); }

json subgroups_json(const ScoredSet& test, const Dataset& data, const std::string& manifest,
                    const std::vector<std::string>& key_names, int64_t min_size) {
  if (min_size < 1) throw UsageError("--subgroup-min-size " + std::to_string(min_size) + ": give at least 1");
  const std::vector<SubgroupKey> keys = parse_subgroup_keys(key_names);
  const std::vector<size_t> classes = reported_classes(test);
  // Group sizes count images; the split's labels only fill the counts it keeps.
  const std::vector<bool> headline = class_positives(test, classes.front());
  json out = {{"min_size", min_size}, {"keys", json::object()}};
  for (const SubgroupKey& key : keys) {
    const std::vector<std::string> values = dataset_subgroup_values(key, data, test.ids, manifest);
    json groups = json::array();
    for (const Subgroup& g : split_subgroups(values, headline, min_size)) {
      json per_class = json::object();
      for (size_t k : classes) per_class[test.classes[k]] = class_json(test, g, k);
      groups.push_back({{"value", g.key}, {"count", g.indices.size()}, {"status", g.status}, {"per_class", per_class}});
    }
    out["keys"][key.name] = {{"source", source_of(key, data, manifest)}, {"groups", groups}};
  }
  return out;
}

}  // namespace cxr::cli
