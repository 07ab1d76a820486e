// Subgroups: groups below the minimum size are listed as "too small" and not scored; age bands.
#include "engine/subgroups.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "core/metrics.h"

namespace cxr {
namespace {

TEST(Subgroups, SmallGroupsAreListedNotScored) {
  std::vector<std::string> keys;
  std::vector<double> scores;
  std::vector<bool> y;
  for (int i = 0; i < 40; ++i)
    keys.push_back("M"), y.push_back(i % 2 == 0), scores.push_back(i % 2 ? 0.2 : 0.8);
  for (int i = 0; i < 10; ++i) keys.push_back("F"), y.push_back(i % 2 == 0), scores.push_back(0.5);
  const auto groups =
      subgroup_metric(keys, scores, y, [](const auto& s, const auto& l) { return auroc(s, l); });
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].group.key, "F");  // sorted by key
  EXPECT_EQ(groups[0].group.status, "too small");
  EXPECT_TRUE(std::isnan(groups[0].value));
  EXPECT_EQ(groups[0].group.indices.size(), 10u);
  EXPECT_EQ(groups[1].group.status, "scored");
  EXPECT_EQ(groups[1].value, 1.0);
  EXPECT_EQ(groups[1].group.positives, 20);
  EXPECT_EQ(groups[1].group.negatives, 20);
  // With a minimum of 10 the small group is scored too.
  EXPECT_EQ(subgroup_metric(
                keys, scores, y, [](const auto& s, const auto& l) { return auroc(s, l); }, 10)[0]
                .value,
            0.5);
  EXPECT_EQ(kMinSubgroupSize, 30);
}

TEST(Subgroups, AgeBands) {
  EXPECT_EQ(age_band(0), "0-19");
  EXPECT_EQ(age_band(19.9), "0-19");
  EXPECT_EQ(age_band(20), "20-39");
  EXPECT_EQ(age_band(59), "40-59");
  EXPECT_EQ(age_band(79.5), "60-79");
  EXPECT_EQ(age_band(80), "80-89");
  EXPECT_EQ(age_band(89.99), "80-89");
  EXPECT_EQ(age_band(90), "90+");
  EXPECT_EQ(age_band(104), "90+");
  EXPECT_EQ(age_bands({3, 45}), (std::vector<std::string>{"0-19", "40-59"}));
  EXPECT_THROW(age_band(-1), UsageError);
  EXPECT_THROW(age_band(NAN), UsageError);
}

TEST(Subgroups, BadInputIsAUsageError) {
  EXPECT_THROW(split_subgroups({"a"}, {true, false}), UsageError);
  EXPECT_THROW(split_subgroups({"a"}, {true}, 0), UsageError);
  EXPECT_THROW(subgroup_metric({"a"}, {NAN}, {true}, [](const auto&, const auto&) { return 0.0; }),
               UsageError);
}

}  // namespace
}  // namespace cxr
