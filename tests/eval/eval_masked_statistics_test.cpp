// eval's statistics with masked multi-label targets (data.uncertain: ignore, stored below 0): an
// ignored label is neither a positive nor a negative anywhere in metrics.json. A masked score
// changes no figure at all, and each class's figures equal those of a set holding only that
// class's unmasked samples, computed on its own.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "cli/eval_statistics.h"

namespace cxr::cli {
namespace {

using nlohmann::json;

// Three correlated labels, each masked on its own (partly overlapping) set of samples.
ScoredSet masked_set(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise;
  ScoredSet s;
  s.classes = {"effusion", "edema", "atelectasis"};
  s.multi_label = true;
  for (int i = 0; i < n; ++i) {
    const bool a = i % 3 == 0, b = a ? i % 2 == 0 : i % 5 == 0, c = i % 4 == 0;
    const bool mask[3] = {i % 6 == 1, i % 5 == 3 || i % 9 == 0, i % 7 == 2};
    const bool pos[3] = {a, b, c};
    const double shared = noise(rng);
    std::vector<double> p, t;
    for (int k = 0; k < 3; ++k) {
      p.push_back(1 / (1 + std::exp(-(1.3 * pos[k] - 0.6 + 0.7 * shared + noise(rng)))));
      t.push_back(mask[k] ? -1.0 : pos[k] ? 1.0 : 0.0);
    }
    s.ids.push_back("img" + std::to_string(i) + ".png");
    s.probs.push_back(p);
    s.targets.push_back(t);
  }
  return s;
}

StatsOptions options() {
  StatsOptions o;
  o.bootstrap = 200;
  o.seed = 7;
  return o;
}

json statistics(const ScoredSet& test, const ScoredSet& val) {
  json m;
  add_statistics(m, test, val, options());
  return m;
}

// Every masked score moved somewhere else.
ScoredSet move_masked_scores(ScoredSet s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u;
  for (size_t i = 0; i < s.probs.size(); ++i)
    for (size_t k = 0; k < s.classes.size(); ++k)
      if (s.targets[i][k] < 0) s.probs[i][k] = u(rng);
  return s;
}

// Only class k, only its unmasked samples.
ScoredSet class_alone(const ScoredSet& s, size_t k) {
  ScoredSet out;
  out.classes = {s.classes[k]};
  out.multi_label = true;
  for (size_t i = 0; i < s.probs.size(); ++i)
    if (s.targets[i][k] >= 0) {
      out.ids.push_back(s.ids[i]);
      out.probs.push_back({s.probs[i][k]});
      out.targets.push_back({s.targets[i][k]});
    }
  return out;
}

TEST(EvalMaskedStatistics, AMaskedScoreChangesNoFigure) {
  const ScoredSet test = masked_set(1, 180), val = masked_set(2, 120);
  const json before = statistics(test, val);
  const json after = statistics(move_masked_scores(test, 3), move_masked_scores(val, 4));
  EXPECT_EQ(before.dump(), after.dump());
  // The check can fail: reading the masked labels as negatives changes the figures.
  ScoredSet as_negatives = test;
  for (auto& t : as_negatives.targets)
    for (double& v : t) v = std::max(v, 0.0);
  const json old_reading = statistics(as_negatives, val);
  EXPECT_NE(old_reading["per_class"]["effusion"]["auroc_ci95"], before["per_class"]["effusion"]["auroc_ci95"]);
  EXPECT_NE(old_reading["brier"], before["brier"]);
}

TEST(EvalMaskedStatistics, EachClassEqualsItsUnmaskedSubsetAlone) {
  const ScoredSet test = masked_set(5, 180), val = masked_set(6, 120);
  const json all = statistics(test, val);
  for (size_t k = 0; k < test.classes.size(); ++k) {
    const std::string& name = test.classes[k];
    const json alone = statistics(class_alone(test, k), class_alone(val, k));
    for (const char* key : {"auroc_ci95", "auroc_se", "average_precision", "prevalence", "pr_curve"})
      EXPECT_EQ(all["per_class"][name][key], alone["per_class"][name][key]) << name << " " << key;
    EXPECT_EQ(all["operating_point"]["per_class"][name], alone["operating_point"]["per_class"][name]) << name;
    EXPECT_EQ(all["bootstrap"]["per_class"][name], alone["bootstrap"]["per_class"][name]) << name;
    // A one-class set's macro is that class: its interval is the class's DeLong interval.
    EXPECT_EQ(alone["auroc_ci95"], all["per_class"][name]["auroc_ci95"]) << name;
  }
}

}  // namespace
}  // namespace cxr::cli
