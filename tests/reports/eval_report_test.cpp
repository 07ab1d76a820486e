// The report's test-set section from an eval/metrics.json with the statistics of `cxrtune eval`:
// the summary's test AUROC with its DeLong CI, the reliability diagram with its bins in a table,
// the PR curve and the operating point table; a class name carrying markup stays escaped; a
// metrics.json without the statistics (written before them) still renders.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "reports/report.h"
#include "reports/run_reader.h"
#include "tests/reports/fixture_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kEvil = "<b>x&y</b>";

json metrics_with_statistics() {
  json reliability = json::array();
  for (int b = 0; b < 15; ++b)
    reliability.push_back({{"lower", b / 15.0}, {"upper", (b + 1) / 15.0}, {"count", b == 3 || b == 12 ? 5 : 0},
                           {"mean_predicted", b == 3 ? json(0.2346) : b == 12 ? json(0.8321) : json(nullptr)},
                           {"observed_frequency", b == 3 ? json(0.4) : b == 12 ? json(0.8) : json(nullptr)}});
  json pc = {{"auroc", 0.8125}, {"support", 5}, {"auroc_ci95", {0.5731, 1.0}}, {"average_precision", 0.7777},
             {"pr_curve", {{"recall", {0, 0.2, 0.6, 1}}, {"precision", {1, 1, 0.75, 0.5}},
                           {"thresholds", {nullptr, 0.9, 0.6, 0.1}}}}};
  json op = {{"threshold", 0.4321}, {"target", 0.95}, {"val_achieved", 0.96}, {"achieved", 0.8},
             {"tp", 4}, {"fp", 2}, {"tn", 3}, {"fn", 1},
             {"sensitivity", {{"value", 0.8}, {"ci95", {0.3755, 0.9638}}}},
             {"specificity", {{"value", 0.6}, {"ci95", {0.2307, 0.8824}}}},
             {"ppv", {{"value", 0.6667}, {"ci95", {0.3, 0.9}}}}, {"npv", {{"value", 0.75}, {"ci95", {0.3, 0.95}}}},
             {"f1", {{"value", 0.7273}, {"ci95", {0.4, 0.9}}}}};
  return {{"count", 10}, {"loss", 0.5}, {"accuracy", 0.7}, {"auroc", 0.8125}, {"auroc_ci95", {0.5731, 1.0}},
          {"auroc_ci_method", "DeLong"}, {"per_class", {{kEvil, pc}}}, {"brier", 0.1875}, {"ece", 0.1234},
          {"ece_binning", "15 equal-width bins"}, {"calibration_of", "probability of " + kEvil},
          {"reliability", reliability},
          {"operating_point", {{"rule", "target_sensitivity"}, {"chosen_on", "val_predictions.json"},
                               {"per_class", {{kEvil, op}}}}}};
}

fs::path run_with_eval(const std::string& name, const json& metrics) {
  const fs::path run = test::make_run({.name = name, .steps = 60, .steps_per_epoch = 20});
  fs::create_directories(run / "eval");
  std::ofstream(run / "eval/metrics.json") << metrics.dump();
  return run;
}

TEST(EvalReport, ShowsTheCiTheReliabilityTableThePrCurveAndTheOperatingPoint) {
  const fs::path run = run_with_eval("with_stats", metrics_with_statistics());
  const report::RunData r = report::read_run(run.string());
  ASSERT_EQ(r.eval.reliability.size(), 15u);
  EXPECT_DOUBLE_EQ(r.eval.auroc_ci.lower, 0.5731);
  ASSERT_EQ(r.eval.pr_curves.size(), 1u);
  ASSERT_EQ(r.eval.operating_points.size(), 1u);
  const std::string page = render_report({run.string()});
  // The summary's test AUROC carries its interval.
  EXPECT_NE(page.find("<td>0.8125 (95 % CI 0.5731–1.0000)</td>"), std::string::npos);
  // Reliability diagram and its bins as a table (both non-empty bins with their numbers).
  EXPECT_NE(page.find("Reliability diagram (Brier 0.1875, ECE 0.1234)"), std::string::npos);
  EXPECT_NE(page.find("Reliability bins (15 equal-width bins"), std::string::npos);
  EXPECT_NE(page.find("<td>0.235</td><td>0.400</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>0.832</td><td>0.800</td>"), std::string::npos);
  // PR curve and its points; the operating point with its Wilson intervals.
  EXPECT_NE(page.find("Precision–recall points"), std::string::npos);
  EXPECT_NE(page.find("0.800 [0.376, 0.964]"), std::string::npos);
  EXPECT_NE(page.find("Operating point (target_sensitivity)"), std::string::npos);
  EXPECT_NE(page.find("0.5731–1.0000"), std::string::npos);  // the per-class CI column
  // Every text from the file escaped.
  EXPECT_EQ(page.find(kEvil), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;x&amp;y&lt;/b&gt;"), std::string::npos);
}

TEST(EvalReport, MetricsJsonWithoutStatisticsStillRenders) {
  json m = {{"count", 10}, {"loss", 0.5}, {"accuracy", 0.7}, {"auroc", 0.8125}};
  const std::string page = render_report({run_with_eval("old_eval", m).string()});
  EXPECT_NE(page.find("<td>0.8125</td>"), std::string::npos);
  EXPECT_EQ(page.find("Reliability diagram"), std::string::npos);
}

}  // namespace
}  // namespace cxr
