// `cxrtune eval`'s statistics on a small fixed run (reference backend, 32 px demo images, one
// epoch): metrics.json holds the DeLong, AP, calibration, operating-point and bootstrap figures,
// each equal to what the statistics library gives on the predictions eval wrote (predictions.csv
// keeps 17 digits, so the two read the same numbers), and to hand formulas (Mann–Whitney by pairs,
// Wilson by its closed form); a sensitivity target is reached on validation; --format json
// prints the file; `compare` of a model with itself gives Δ = 0.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/bootstrap.h"
#include "engine/calibration.h"
#include "engine/delong.h"
#include "core/metrics.h"
#include "engine/operating_point_selection.h"
#include "engine/precision_recall.h"
#include "io/csv.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path root() { return fs::temp_directory_path() / ("cxr_eval_stats_" + std::to_string(getpid())); }

struct Result {
  int code;
  std::string out;
};
Result run(const std::string& args) {
  const fs::path log = root() / "stdout.log";
  const int status = std::system((kBin + " " + args + " > " + log.string() + " 2>" + (root() / "stderr.log").string()).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(log) + slurp(root() / "stderr.log")};
}

// PNEUMONIA's scores and labels as predictions.csv holds them.
struct Column {
  std::vector<double> scores;
  std::vector<bool> positive;
};
Column pneumonia(const fs::path& csv) {
  std::ifstream in(csv);
  std::vector<std::string> f;
  int64_t line = 0;
  Column c;
  cxr::read_csv_record(in, f, line);  // header: path, label, p_NORMAL, p_PNEUMONIA
  while (cxr::read_csv_record(in, f, line)) {
    c.scores.push_back(std::stod(f.at(3)));
    c.positive.push_back(f.at(1) == "PNEUMONIA");
  }
  return c;
}

Column val_pneumonia(const fs::path& run_dir) {
  const json v = json::parse(slurp(run_dir / "val_predictions.json"));
  Column c;
  for (size_t i = 0; i < v["scores"].size(); ++i) {
    c.scores.push_back(v["scores"][i][1].get<double>());
    c.positive.push_back(v["targets"][i][1].get<double>() > 0.5);
  }
  return c;
}

class EvalStatistics : public ::testing::Test {
 protected:
  static fs::path run_dir() { return root() / "run"; }
  static std::string ckpt() { return (run_dir() / "checkpoints/best.safetensors").string(); }
  static std::string test_data() { return (root() / "demo/test").string(); }
  static void SetUpTestSuite() {
    fs::create_directories(root());
    ASSERT_EQ(run("demo-data " + (root() / "demo").string() + " --count 40 --size 32").code, 0);
    std::ofstream(root() / "r.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " +
                                            (root() / "demo/train").string() + "\n  val: " +
                                            (root() / "demo/val").string() +
                                            "\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 4\n"
                                            "  backend: reference\n  threads: 2\n";
    const Result t = run("train " + (root() / "r.yaml").string() + " --out " + run_dir().string() + " --no-report");
    ASSERT_EQ(t.code, 0) << t.out;
  }
  static void TearDownTestSuite() { fs::remove_all(root()); }
};

TEST_F(EvalStatistics, MetricsJsonHoldsTheLibrarysFiguresAndHandValues) {
  const fs::path out = root() / "e1/metrics.json";
  const Result e = run("eval --checkpoint " + ckpt() + " --data " + test_data() + " --out " + out.string() +
                       " --bootstrap 300 --seed 7");
  ASSERT_EQ(e.code, 0) << e.out;
  const json m = json::parse(slurp(out));
  for (const char* key : {"checkpoint", "count", "loss", "accuracy", "auroc", "per_class", "confusion", "classes",
                          "auroc_ci95", "brier", "ece", "ece_binning", "reliability", "operating_point", "bootstrap"})
    EXPECT_TRUE(m.contains(key)) << key;
  EXPECT_EQ(m["ece_binning"], "15 equal-width bins");
  EXPECT_EQ(m["reliability"].size(), 15u);
  const Column c = pneumonia(out.parent_path() / "predictions.csv");
  ASSERT_EQ(static_cast<int64_t>(c.scores.size()), m["count"].get<int64_t>());

  // DeLong: the binary AUROC's interval is the positive class's, as the library computes it.
  const cxr::AurocInterval d = cxr::delong_auroc(c.scores, c.positive);
  const json& pc = m["per_class"]["PNEUMONIA"];
  EXPECT_NEAR(pc["auroc_ci95"][0].get<double>(), d.lower, 1e-12);
  EXPECT_NEAR(pc["auroc_ci95"][1].get<double>(), d.upper, 1e-12);
  EXPECT_NEAR(m["auroc_ci95"][0].get<double>(), d.lower, 1e-12);
  EXPECT_NEAR(m["auroc_ci95"][1].get<double>(), d.upper, 1e-12);
  // By hand: Mann–Whitney over every (positive, negative) pair, ties ½.
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < c.scores.size(); ++i)
    for (size_t j = 0; j < c.scores.size(); ++j)
      if (c.positive[i] && !c.positive[j]) {
        wins += c.scores[i] > c.scores[j] ? 1.0 : c.scores[i] == c.scores[j] ? 0.5 : 0.0;
        pairs += 1;
      }
  EXPECT_NEAR(pc["auroc"].get<double>(), wins / pairs, 1e-12);
  EXPECT_LE(pc["auroc_ci95"][0].get<double>(), wins / pairs);
  EXPECT_GE(pc["auroc_ci95"][1].get<double>(), wins / pairs);

  EXPECT_NEAR(pc["average_precision"].get<double>(), cxr::average_precision(c.scores, c.positive).value, 1e-12);
  EXPECT_EQ(pc["pr_curve"]["recall"].size(), cxr::pr_curve(c.scores, c.positive).recall.size());
  const cxr::CalibrationSummary cal = cxr::calibration(c.scores, c.positive);
  EXPECT_NEAR(m["brier"].get<double>(), cal.brier, 1e-12);
  EXPECT_NEAR(m["ece"].get<double>(), cal.ece, 1e-12);

  // Operating point: Youden on validation, applied to the evaluated data.
  const Column v = val_pneumonia(run_dir());
  const cxr::OperatingPointReport op =
      cxr::validate_then_test(v.scores, v.positive, c.scores, c.positive, {}, 7, {300, 0.95});
  const json& o = m["operating_point"]["per_class"]["PNEUMONIA"];
  EXPECT_EQ(m["operating_point"]["rule"], "youden");
  EXPECT_NEAR(o["threshold"].get<double>(), op.chosen.threshold, 1e-12);
  EXPECT_EQ(o["tp"].get<int64_t>(), op.test.tp);
  EXPECT_NEAR(o["sensitivity"]["ci95"][0].get<double>(), op.test.sensitivity.lower, 1e-12);
  EXPECT_NEAR(o["f1"]["ci95"][1].get<double>(), op.test.f1_interval.upper, 1e-12);
  // Wilson by its closed form, for the specificity.
  const double k = o["specificity"]["successes"].get<double>(), n = o["specificity"]["trials"].get<double>();
  const double z = 1.959963984540054, p = k / n, centre = (p + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z / (1 + z * z / n) * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  EXPECT_NEAR(o["specificity"]["ci95"][0].get<double>(), centre - half, 1e-12);
  EXPECT_NEAR(o["specificity"]["ci95"][1].get<double>(), centre + half, 1e-12);

  // Bootstrap: seeded, so the library with the same seed gives the same interval.
  const cxr::BootstrapInterval b = cxr::bootstrap_interval(c.scores, c.positive, cxr::auroc, 7, {300, 0.95});
  const json& bj = m["bootstrap"]["per_class"]["PNEUMONIA"]["auroc"];
  EXPECT_EQ(m["bootstrap"]["resamples"], 300);
  EXPECT_NEAR(bj["ci95"][0].get<double>(), b.lower, 1e-12);
  EXPECT_NEAR(bj["ci95"][1].get<double>(), b.upper, 1e-12);
  EXPECT_TRUE(m["bootstrap"]["per_class"]["PNEUMONIA"]["operating_point"].contains("ppv"));

  // The stdout table carries the figures.
  EXPECT_NE(e.out.find("DeLong 95% CI"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("ECE"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("operating point (youden"), std::string::npos) << e.out;
}

TEST_F(EvalStatistics, SensitivityTargetIsReachedOnValidation) {
  const fs::path out = root() / "e2/metrics.json";
  const Result e = run("eval --checkpoint " + ckpt() + " --data " + test_data() + " --out " + out.string() +
                       " --operating-point sensitivity=0.95 --bootstrap 0");
  ASSERT_EQ(e.code, 0) << e.out;
  const json m = json::parse(slurp(out));
  const json& o = m["operating_point"]["per_class"]["PNEUMONIA"];
  EXPECT_EQ(m["operating_point"]["rule"], "target_sensitivity");
  EXPECT_DOUBLE_EQ(o["target"].get<double>(), 0.95);
  EXPECT_GE(o["val_achieved"].get<double>(), 0.95);
  // Recomputed from val_predictions.json at the chosen threshold.
  const Column v = val_pneumonia(run_dir());
  const cxr::OperatingPoint at = cxr::operating_point(v.scores, v.positive, o["threshold"].get<double>());
  EXPECT_GE(at.sensitivity, 0.95);
  EXPECT_TRUE(m["bootstrap"].is_null());
  {  // a target that is not a number is refused by name
    const Result bad = run("eval --checkpoint " + ckpt() + " --data " + test_data() + " --out " + out.string() +
                           " --operating-point sensitivity=high");
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_NE(bad.out.find("--operating-point"), std::string::npos) << bad.out;
  }
}

TEST_F(EvalStatistics, FormatJsonPrintsTheWholeMetricsJson) {
  const fs::path out = root() / "e3/metrics.json";
  const Result e = run("eval --checkpoint " + ckpt() + " --data " + test_data() + " --out " + out.string() +
                       " --format json --bootstrap 50");
  ASSERT_EQ(e.code, 0) << e.out;
  const json printed = json::parse(slurp(root() / "stdout.log"));
  EXPECT_EQ(printed, json::parse(slurp(out)));
  EXPECT_TRUE(printed.contains("auroc_ci95"));
}

// compare on models: the run directory (its best checkpoint) against its last checkpoint, the
// same weights after one epoch, scored by eval's code on the same images: Δ = 0, p = 1.
TEST_F(EvalStatistics, CompareOfAModelWithItselfGivesDeltaZero) {
  const fs::path out = root() / "compare.json";
  const Result c = run("compare " + run_dir().string() + " " + (run_dir() / "checkpoints/last.safetensors").string() +
                       " --data " + test_data() + " -o " + out.string());
  ASSERT_EQ(c.code, 0) << c.out;
  const json j = json::parse(slurp(out));
  EXPECT_EQ(j["macro"]["delta"].get<double>(), 0.0);
  EXPECT_EQ(j["macro"]["p_value"].get<double>(), 1.0);
  EXPECT_NE(c.out.find("paired DeLong"), std::string::npos) << c.out;
}

}  // namespace
