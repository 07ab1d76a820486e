// `cxrtune compare` on two multi-label eval outputs whose predictions.csv marks masked labels in
// its `ignored` column: each class's paired DeLong test equals the test on that class's unmasked
// samples alone, a masked score changes nothing, and reading the masks as negatives would give
// another answer (so the check can fail).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/delong.h"
#include "io/csv.h"
#include "tests/support/cli_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kClasses{"Effusion", "Edema"};

struct Sample {
  double p[2];
  int t[2];  // 1, 0 or -1 (masked)
};

std::vector<Sample> samples(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise;
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    Sample s{};
    const int t0 = i % 3 == 0, t1 = i % 4 == 0;
    s.t[0] = i % 5 == 2 ? -1 : t0;
    s.t[1] = i % 7 == 3 ? -1 : t1;
    for (int k = 0; k < 2; ++k) s.p[k] = 1 / (1 + std::exp(-(1.4 * (k ? t1 : t0) - 0.5 + noise(rng))));
    out.push_back(s);
  }
  return out;
}

// An eval output as eval writes it for a masked multi-label set.
fs::path write_eval(const fs::path& dir, const std::vector<Sample>& s) {
  fs::create_directories(dir);
  std::string csv = csv_row({"path", "labels", "ignored", "p_Effusion", "p_Edema"});
  for (size_t i = 0; i < s.size(); ++i) {
    std::string labels, ignored;
    for (int k = 0; k < 2; ++k) {
      std::string& field = s[i].t[k] < 0 ? ignored : labels;
      if (s[i].t[k] != 0) field += (field.empty() ? "" : ";") + kClasses[static_cast<size_t>(k)];
    }
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%.17g", s[i].p[0]);
    std::snprintf(b, sizeof b, "%.17g", s[i].p[1]);
    csv += csv_row({"img" + std::to_string(i) + ".png", labels, ignored, a, b});
  }
  std::ofstream(dir / "predictions.csv") << csv;
  std::ofstream(dir / "metrics.json") << "{}";
  return dir / "metrics.json";
}

json compare(const fs::path& root, const fs::path& a, const fs::path& b, const std::string& name) {
  const test::Result r = test::run_cxrtune("compare " + a.string() + " " + b.string() + " -o " + (root / name).string(),
                                           root / "compare.log");
  EXPECT_EQ(r.code, 0) << r.output;
  json j = json::parse(test::slurp(root / name));
  j.erase("a"), j.erase("b");
  return j;
}

TEST(CompareMasked, EachClassIsPairedOnItsUnmaskedSamples) {
  const fs::path root = fs::temp_directory_path() / ("cxr_compare_masked_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::vector<Sample> a = samples(1, 90), b = samples(2, 90);
  std::vector<Sample> b_labels = b;  // the same labels for both models: compare refuses others
  for (size_t i = 0; i < b.size(); ++i) b_labels[i].t[0] = a[i].t[0], b_labels[i].t[1] = a[i].t[1];
  const json j = compare(root, write_eval(root / "a", a), write_eval(root / "b", b_labels), "c.json");
  for (size_t k = 0; k < 2; ++k) {
    std::vector<double> sa, sb;
    std::vector<bool> y;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].t[k] >= 0) sa.push_back(a[i].p[k]), sb.push_back(b_labels[i].p[k]), y.push_back(a[i].t[k] == 1);
    const AurocDifference d = delong_paired_test(sa, sb, y);
    const json& c = j["per_class"][kClasses[k]];
    EXPECT_NEAR(c["delta"].get<double>(), d.delta, 1e-12) << kClasses[k];
    EXPECT_NEAR(c["se"].get<double>(), d.se, 1e-12) << kClasses[k];
    EXPECT_NEAR(c["p_value"].get<double>(), d.p_value, 1e-12) << kClasses[k];
    EXPECT_EQ(c["n_pos"].get<int64_t>() + c["n_neg"].get<int64_t>(), static_cast<int64_t>(y.size()));
  }
  // The macro Δ is the mean of the class Δs.
  EXPECT_NEAR(j["macro"]["delta"].get<double>(),
              (j["per_class"]["Effusion"]["delta"].get<double>() + j["per_class"]["Edema"]["delta"].get<double>()) / 2,
              1e-12);
  // Moving every masked score changes nothing.
  std::vector<Sample> a2 = a, b2 = b_labels;
  for (size_t i = 0; i < a.size(); ++i)
    for (int k = 0; k < 2; ++k)
      if (a[i].t[k] < 0) a2[i].p[k] = 0.999, b2[i].p[k] = 0.001 * static_cast<double>(i % 7);
  EXPECT_EQ(compare(root, write_eval(root / "a2", a2), write_eval(root / "b2", b2), "c2.json").dump(), j.dump());
  // Read as negatives, the masked labels change the answer: the check above can fail.
  for (auto* set : {&a2, &b2})
    for (Sample& s : *set)
      for (int& t : s.t) t = std::max(t, 0);
  const json as_negatives = compare(root, write_eval(root / "a3", a2), write_eval(root / "b3", b2), "c3.json");
  EXPECT_NE(as_negatives["per_class"]["Effusion"]["delta"], j["per_class"]["Effusion"]["delta"]);
  fs::remove_all(root);
}

}  // namespace
}  // namespace cxr
