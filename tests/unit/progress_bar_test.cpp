// The progress line: rate and ETA come only from steps timed since the first update, so the first
// line of a bar never shows a rate over microseconds (it once read "16580310.9 img/s").
#include <gtest/gtest.h>

#include "cli/progress_bar.h"

namespace cxr::cli {
namespace {

TEST(ProgressLine, FirstUpdateHasNoRateYet) {
  EXPECT_EQ(progress_line("train", 1, 5, 1, 0.0, 32, ""), "train  1/5 [====>                   ] -- img/s  ETA --");
  EXPECT_EQ(progress_line("train", 1, 5, 1, 1e-6, 32, ""), progress_line("train", 1, 5, 1, 0.0, 32, ""));
}

TEST(ProgressLine, RateAndEtaFromStepsSinceTheFirstUpdate) {
  // Steps 2 and 3 took 4 s together: 16 img/s at 32 per step, and 2 s per step for the 2 left.
  EXPECT_EQ(progress_line("train", 3, 5, 1, 4.0, 32, "loss 0.5000"),
            "train  3/5 [==============>         ] 16.0 img/s  ETA 0:04  loss 0.5000");
  EXPECT_EQ(progress_line("epoch 2", 40, 40, 1, 3900.0, 32, ""),
            "epoch 2 40/40 [========================] 0.3 img/s  ETA 0:00");
  EXPECT_EQ(format_duration(3725), "1:02:05");
}

}  // namespace
}  // namespace cxr::cli
