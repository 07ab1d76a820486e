#include "engine/subgroups.h"

#include <cmath>
#include <map>

#include "core/errors.h"
#include "engine/stats_input.h"

namespace cxr {

std::vector<Subgroup> split_subgroups(const std::vector<std::string>& keys,
                                      const std::vector<bool>& positive, int64_t min_size) {
  if (keys.size() != positive.size())
    throw UsageError("subgroups: " + std::to_string(keys.size()) + " keys for " +
                     std::to_string(positive.size()) + " labels");
  if (min_size < 1)
    throw UsageError("subgroups: min_size must be at least 1, not " + std::to_string(min_size));
  std::map<std::string, Subgroup> by_key;
  for (size_t i = 0; i < keys.size(); ++i) {
    Subgroup& g = by_key[keys[i]];
    g.key = keys[i];
    g.indices.push_back(static_cast<int64_t>(i));
    positive[i] ? ++g.positives : ++g.negatives;
  }
  std::vector<Subgroup> out;
  for (auto& [key, g] : by_key) {
    g.status = static_cast<int64_t>(g.indices.size()) >= min_size ? "scored" : "too small";
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<SubgroupValue> subgroup_metric(const std::vector<std::string>& keys,
                                           const std::vector<double>& scores,
                                           const std::vector<bool>& positive,
                                           const ScoreStatistic& metric, int64_t min_size) {
  check_scores("subgroups", scores, positive);
  std::vector<SubgroupValue> out;
  for (Subgroup& g : split_subgroups(keys, positive, min_size)) {
    SubgroupValue v;
    if (g.scored()) {
      std::vector<double> s;
      std::vector<bool> y;
      for (int64_t i : g.indices) {
        s.push_back(scores[static_cast<size_t>(i)]);
        y.push_back(positive[static_cast<size_t>(i)]);
      }
      v.value = metric(s, y);
    }
    v.group = std::move(g);
    out.push_back(std::move(v));
  }
  return out;
}

std::string age_band(double age) {
  if (!(age >= 0)) throw UsageError("age " + std::to_string(age) + " is not a non-negative number");
  if (age >= 90) return "90+";
  if (age >= 80) return "80-89";
  const int lo = static_cast<int>(std::floor(age / 20)) * 20;
  return std::to_string(lo) + "-" + std::to_string(lo + 19);
}

std::vector<std::string> age_bands(const std::vector<double>& ages) {
  std::vector<std::string> out;
  out.reserve(ages.size());
  for (double a : ages) out.push_back(age_band(a));
  return out;
}

}  // namespace cxr
