// The report says what it saw: a diverging validation loss and accuracy back at chance are
// warnings (never the green check), captions state facts computed from the run (the rates of a
// run without layer decay, the first-batch profile of a fresh network, the loss that was
// minimised), and held-out test results reach the summary table.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>
#include <nlohmann/json.hpp>

#include "reports/figures.h"
#include "reports/report.h"
#include "reports/run_reader.h"
#include "reports/svg_axes.h"
#include "tests/reports/fixture_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::make_run;

bool contains(const std::string& page, const std::string& text) { return page.find(text) != std::string::npos; }

std::vector<std::string> health_kinds(const fs::path& dir) {
  std::vector<std::string> kinds;
  const json j = json::parse(report_json({dir.string()}));  // kept: a temporary would die before the loop
  for (const json& f : j["runs"][0]["health"]) kinds.push_back(f["kind"]);
  return kinds;
}

TEST(Findings, DivergingValidationLossIsAWarningNotAGreenCheck) {
  const fs::path dir = make_run({.name = "diverging", .steps = 300, .steps_per_epoch = 50, .diverge_epoch = 5});
  const std::string page = render_report({dir.string()});
  EXPECT_FALSE(contains(page, "class='ok'")) << "green check on a diverged run";
  EXPECT_TRUE(contains(page, "validation loss diverged: 2.300e+26 at epoch 5")) << page.substr(page.find("Training health"));
  EXPECT_TRUE(contains(page, "<td>1 warning</td>"));
  EXPECT_EQ(health_kinds(dir), (std::vector<std::string>{"diverging"}));
}

TEST(Findings, AccuracyBackAtChanceIsAWarning) {
  const fs::path dir = make_run({.name = "chance", .steps = 300, .steps_per_epoch = 50, .chance_epoch = 5});
  const std::string page = render_report({dir.string()});
  EXPECT_FALSE(contains(page, "class='ok'"));
  EXPECT_TRUE(contains(page, "validation accuracy fell to chance: 0.500 at epoch 5")) << page.substr(page.find("Training health"));
  EXPECT_EQ(health_kinds(dir), (std::vector<std::string>{"chance"}));
}

TEST(Findings, CleanRunsKeepTheGreenCheckAndSayWhatWasChecked) {
  for (bool pretrained : {true, false}) {
    const fs::path dir = make_run({.name = pretrained ? "clean_pre" : "clean_fresh", .pretrained = pretrained});
    const std::string page = render_report({dir.string()});
    EXPECT_TRUE(contains(page, "class='ok'")) << pretrained;
    EXPECT_TRUE(contains(page, "Validation loss stayed within 2× its minimum and accuracy did not fall back to chance "
                               "over 6 validated epochs."));
    EXPECT_TRUE(health_kinds(dir).empty());
  }
}

TEST(Findings, LearningRateCaptionIsComputedFromTheRates) {
  const std::string decayed = render_report({make_run({.name = "decay", .steps = 100}).string()});
  EXPECT_TRUE(contains(decayed, "Layer-wise rates: fc learns fastest, each stage nearer the input slower, conv1 slowest"));
  EXPECT_TRUE(contains(decayed, "32×)"));  // 0.5^-5
  const std::string flat = render_report({make_run({.name = "flat", .steps = 100, .layer_decay = 1.0}).string()});
  EXPECT_FALSE(contains(flat, "learns fastest"));
  EXPECT_TRUE(contains(flat, "Every stage has the same learning rate"));
}

TEST(Findings, FirstBatchCaptionIsComputedFromTheNorms) {
  const std::string pre = render_report({make_run({.name = "fb_pre", .steps = 60}).string()});
  EXPECT_TRUE(contains(pre, "every stage received a gradient at step 0; the norm grows at every stage from conv1 to fc"));
  const std::string fresh = render_report({make_run({.name = "fb_fresh", .steps = 60, .pretrained = false}).string()});
  EXPECT_FALSE(contains(fresh, "grows"));  // 0.95 at conv1 … 0.55 at layer3 … 0.83 at fc
  EXPECT_TRUE(contains(fresh, "every stage received a gradient at step 0; largest in "));
  const std::string frozen = render_report({make_run({.name = "fb_frozen", .steps = 60, .freeze_conv1 = true}).string()});
  EXPECT_TRUE(contains(frozen, "no gradient at step 0 in conv1"));
}

TEST(Findings, LossAxisNamesTheLossOfTheRecipe) {
  const std::string bce = render_report(
      {make_run({.name = "bce", .steps = 60, .recipe_text = "model:\n  arch: resnet18\nloss:\n  name: bce\n  label_smoothing: 0\n"})
           .string()});
  EXPECT_TRUE(contains(bce, "loss (mean binary cross-entropy)"));
  EXPECT_FALSE(contains(bce, "loss (mean cross-entropy)"));
}

TEST(Findings, HeldOutTestResultsAreInTheSummaryTable) {
  const fs::path dir = make_run({.name = "with_eval", .steps = 60});
  const std::string before = render_report({dir.string()});
  EXPECT_FALSE(contains(before, "<th>test AUROC</th>"));
  fs::create_directories(dir / "eval");
  std::ofstream(dir / "eval/metrics.json") << R"({"count": 96, "loss": 0.21, "accuracy": 0.9375, "auroc": 0.9812})";
  const std::string page = render_report({dir.string()});
  EXPECT_TRUE(contains(page, "<th>test images</th><th>test accuracy</th><th>test AUROC</th>"));
  EXPECT_TRUE(contains(page, "<td>96</td><td>0.9375</td><td>0.9812</td>"));
  // A second run without eval/metrics.json shows dashes in those columns.
  const std::string two = render_report({dir.string(), make_run({.name = "no_eval", .steps = 60}).string()});
  EXPECT_TRUE(contains(two, "<td>–</td><td>–</td><td>–</td>"));
}

// One ROC curve per class: with many classes and long names the legend must stay inside the
// chart (it used to run off the bottom after 20 entries and off the right with long names).
TEST(Findings, ManyClassRocLegendFitsInsideTheChart) {
  for (size_t classes : {3u, 14u, 40u}) {
    report::RunData r;
    r.name = "multi";
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    for (size_t k = 0; k < classes; ++k)
      r.predictions.classes.push_back((k % 2 ? "Pleural_Thickening_with_a_long_name_" : "Mass_") + std::to_string(k));
    for (int i = 0; i < 400; ++i) {
      std::vector<double> t(classes, 0), p(classes);
      t[static_cast<size_t>(i) % classes] = 1;
      for (size_t k = 0; k < classes; ++k) p[k] = 0.6 * t[k] + 0.4 * u(rng);
      r.predictions.targets.push_back(t), r.predictions.scores.push_back(p);
    }
    const std::string html = report::validation_figures(r);
    const std::string svg = html.substr(0, html.find("</svg>"));
    std::smatch box;
    ASSERT_TRUE(std::regex_search(svg, box, std::regex("viewBox='0 0 ([0-9.]+) ([0-9.]+)'")));
    const double width = std::stod(box[1]), height = std::stod(box[2]);
    const std::regex text("<text x='([0-9.]+)' y='([0-9.]+)' class='legend'>([^<]*)</text>");
    size_t shown = 0;
    for (std::sregex_iterator it(svg.begin(), svg.end(), text), end; it != end; ++it, ++shown) {
      const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
      const std::string name = (*it)[3];
      EXPECT_LE(y + 3, height) << classes << " classes: " << name;
      EXPECT_LE(x + svg::kLegendCharWidth * static_cast<double>(svg::text_length(name)), width) << classes << ": " << name;
    }
    EXPECT_EQ(shown, classes);
    if (classes == 3) {
      EXPECT_EQ(svg.find("…"), std::string::npos);  // one column: names uncut
    }
  }
}

}  // namespace
}  // namespace cxr
