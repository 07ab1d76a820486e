// Recipe keys as the data sees them: an unknown name in data.labels is reported where the recipe
// wrote it (FILE:LINE:COL, or the --set) with the nearest label, although the layouts resolve
// labels only after parsing; loss.class_weights: auto counts masked targets as neither positive
// nor negative.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "io/dataset.h"
#include "recipes/data_request.h"
#include "recipes/recipe_parser.h"
#include "tests/io/layout_fixtures.h"

namespace cxr {
namespace {

std::string resolve_error(const Recipe& r) {
  try {
    resolve_dataset(layout_request(r));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(RecipeData, UnknownLabelNamesFileLineColumnAndTheNearestLabel) {
  test::TempDir t("recipe_labels");
  const std::string csv = test::write_nih(t.path, /*official_lists=*/false);
  // Line 4; the elements start at columns 12, 26 and 34 (1-based).
  const std::string yaml = "data:\n  format: nih\n  train: " + csv +
                           "\n  labels: [Cardiomegaly, Hernia, Cardiomegally]\n  val_split: 0.5\n";
  const Recipe r = parse_recipe_text(yaml, "labels.yaml");
  ASSERT_EQ(r.data.labels_where.size(), 3u);
  EXPECT_EQ(r.data.labels_where[0], "labels.yaml:4:12");
  EXPECT_EQ(r.data.labels_where[2], "labels.yaml:4:34");
  const std::string m = resolve_error(r);
  EXPECT_EQ(m.rfind("labels.yaml:4:34: data.labels: 'Cardiomegally' is not a label of the nih layout "
                    "(did you mean 'Cardiomegaly'?); available: Atelectasis, Cardiomegaly",
                    0),
            0u)
      << m;

  // Set on the command line: the --set is named instead.
  const Recipe s = parse_recipe_text("data:\n  format: nih\n  train: " + csv + "\n  val_split: 0.5\n", "labels.yaml",
                                     {"data.labels=[Pneumothorx]"});
  const std::string ms = resolve_error(s);
  EXPECT_EQ(ms.rfind("--set data.labels=[Pneumothorx]: data.labels: 'Pneumothorx'", 0), 0u) << ms;
  EXPECT_NE(ms.find("(did you mean 'Pneumothorax'?)"), std::string::npos) << ms;

  // Nothing close: no suggestion, the list only.
  const Recipe far = parse_recipe_text("data:\n  format: nih\n  train: " + csv + "\n  labels: [Xyzzy]\n  val_split: 0.5\n", "l.yaml");
  const std::string mf = resolve_error(far);
  EXPECT_EQ(mf.rfind("l.yaml:4:12: data.labels: 'Xyzzy' is not a label of the nih layout; available: ", 0), 0u) << mf;
}

TEST(RecipeData, AutoPosWeightsCountOnlyUnmaskedTargets) {
  Dataset d;
  d.multi_label = true;
  d.classes = {"A", "B", "C"};
  // A: 1 positive, 2 negatives, 2 masked → 2 (counting the masked ones as negatives gave 4).
  // B: 2 positives, 1 negative, 2 masked → 0.5.  C: no positive (all masked or 0) → 1.
  const std::vector<std::vector<float>> t{{1, 1, 0}, {0, 1, kIgnoredTarget}, {kIgnoredTarget, 0, 0},
                                          {kIgnoredTarget, kIgnoredTarget, kIgnoredTarget}, {0, kIgnoredTarget, 0}};
  for (const auto& row : t) d.samples.push_back({.path = "x", .relative = "x", .label = 0, .targets = row});
  const std::vector<double> w = d.bce_pos_weights();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 2.0);
  EXPECT_DOUBLE_EQ(w[1], 0.5);
  EXPECT_DOUBLE_EQ(w[2], 1.0);
}

}  // namespace
}  // namespace cxr
