// A masked target (data.uncertain: ignore, stored below 0) is not a negative where eval chooses an
// operating point: unmasked_class drops exactly the masked samples of that class and keeps the
// other classes' samples.
#include <gtest/gtest.h>

#include "cli/eval_statistics.h"
#include "engine/operating_point_selection.h"

namespace {

cxr::ScoredSet two_labels() {
  cxr::ScoredSet s;
  s.classes = {"effusion", "edema"};
  s.multi_label = true;
  s.ids = {"a", "b", "c", "d"};
  s.probs = {{0.9, 0.2}, {0.8, 0.7}, {0.3, 0.6}, {0.1, 0.4}};
  s.targets = {{1, 0}, {-1, 1}, {0, -1}, {0, 0}};
  return s;
}

TEST(EvalMasked, UnmaskedClassDropsOnlyThatClassesMaskedSamples) {
  const cxr::ScoredSet s = two_labels();
  const cxr::cli::ClassColumn effusion = cxr::cli::unmasked_class(s, 0);
  EXPECT_EQ(effusion.scores, (std::vector<double>{0.9, 0.3, 0.1}));
  EXPECT_EQ(effusion.positives, (std::vector<bool>{true, false, false}));
  const cxr::cli::ClassColumn edema = cxr::cli::unmasked_class(s, 1);
  EXPECT_EQ(edema.scores, (std::vector<double>{0.2, 0.7, 0.4}));
  EXPECT_EQ(edema.positives, (std::vector<bool>{false, true, false}));
  // The index-aligned view still has every sample (the masked one as a negative).
  EXPECT_EQ(cxr::cli::class_positives(s, 0).size(), 4u);
}

}  // namespace
