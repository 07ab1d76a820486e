// The generic finite-difference gradcheck (plugins/checks/gradcheck.h) over every op in the
// registry, built-in and plugin (GELU): central differences of Σ r·f against the reference
// layer's backward, for every input and parameter of every OpInfo case. Plus the one reference
// semantics a difference quotient cannot see: max-pool ties.
#include <gtest/gtest.h>

#include <algorithm>

#include "plugins/checks/gradcheck.h"
#include "plugins/reference/kernels.h"
#include "tests/layers/test_registry.h"

namespace cxr {
namespace {

class Gradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(Gradcheck, ReferenceBackwardMatchesFiniteDifferences) {
  const checks::CheckRow row = checks::gradcheck_reference(swept_registry(), GetParam());
  std::printf("[gradcheck %s] %d cases, worst relative error %.2e (%s)\n", row.op.c_str(), row.runs, row.worst,
              row.worst_where.c_str());
  EXPECT_TRUE(row.passed) << joined(row.failures);
  EXPECT_GT(row.runs, 0);
}

INSTANTIATE_TEST_SUITE_P(Registry, Gradcheck, ::testing::ValuesIn(swept_registry().ops()),
                         [](const auto& info) { return info.param; });

TEST(Gradcheck, CoversThePluginOp) {
  const auto ops = swept_registry().ops();
  EXPECT_NE(std::find(ops.begin(), ops.end(), "gelu"), ops.end());
}

TEST(Gradcheck, MaxPool2dTiesGoToTheFirstMaximum) {
  using Vec = std::vector<double>;
  const Vec x{1, 3, 3, 0};  // one 2×2 window, two equal maxima
  Vec y(1), dx(4);
  std::vector<int64_t> arg(1);
  ref::maxpool_forward(x.data(), {1, 1, 2, 2}, 2, 2, 0, y.data(), 1, 1, arg.data());
  const Vec dy{1};
  ref::maxpool_backward({1, 1, 2, 2}, dy.data(), 1, arg.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 1, 0, 0}));
}

}  // namespace
}  // namespace cxr
