// Layer plugins loaded at run time like `--plugin`, checked as `cxrtune check-plugin` checks
// them (plugins/checks/plugin_check.h): the example GELU plugin (plugins/examples/gelu) passes
// its gradcheck and its oneDNN parity; a plugin whose backward is off by a factor 2 fails the
// gradcheck naming the op and tensor; one whose oneDNN forward differs from its reference fails
// the parity naming the op, the backend and the output.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.h"
#include "engine/layer_registry.h"
#include "plugins/backends.h"
#include "plugins/checks/plugin_check.h"

namespace cxr {
namespace {

const std::string kGelu = std::string(CXRTUNE_BINARY_DIR) + "/plugins/libcxrtune_gelu.so";
const std::string kWrongBackward = std::string(CXRTUNE_BINARY_DIR) + "/tests/plugin/libcxrtune_test_wrong_backward.so";
const std::string kWrongOnednn = std::string(CXRTUNE_BINARY_DIR) + "/tests/plugin/libcxrtune_test_wrong_onednn.so";

const checks::CheckRow* find_row(const checks::PluginReport& r, const std::string& kind, const std::string& backend,
                                 const std::string& precision) {
  for (const checks::CheckRow& row : r.rows)
    if (row.kind == kind && row.backend == backend && row.precision == precision) return &row;
  return nullptr;
}

bool mentions(const checks::CheckRow& row, const std::string& text) {
  return std::any_of(row.failures.begin(), row.failures.end(),
                     [&](const std::string& f) { return f.find(text) != std::string::npos; });
}

TEST(Plugin, MissingLibraryIsAUsageError) {
  LayerRegistry registry;
  EXPECT_THROW(load_plugin("/nonexistent/libnothing.so", registry), UsageError);
  EXPECT_THROW(checks::check_plugin("/nonexistent/libnothing.so"), UsageError);
}

TEST(Plugin, EntriesAreMarkedWithThePlugin) {
  LayerRegistry registry;
  register_all_layers(registry);
  load_plugin(kGelu, registry);
  EXPECT_EQ(registry.op_origin("gelu"), kGelu);
  EXPECT_EQ(registry.origin("gelu", "reference"), kGelu);
  EXPECT_EQ(registry.origin("relu", "reference"), "");
  // The same file again (a recipe's plugins: and --plugin both) is a no-op...
  EXPECT_NO_THROW(load_plugin(kGelu, registry));
  // ...but another library registering the same names is an error, not a silent overwrite.
  const auto copy = std::filesystem::temp_directory_path() / ("cxr_gelu_copy_" + std::to_string(::getpid()) + ".so");
  std::filesystem::copy_file(kGelu, copy, std::filesystem::copy_options::overwrite_existing);
  try {
    load_plugin(copy.string(), registry);
    ADD_FAILURE() << "a second library registering gelu must be a GraphError";
  } catch (const GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("gelu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(kGelu), std::string::npos) << e.what();
  }
  std::filesystem::remove(copy);
}

TEST(Plugin, GeluPassesGradcheckAndParity) {
  const checks::PluginReport report = checks::check_plugin(kGelu);
  EXPECT_EQ(report.ops, std::vector<std::string>{"gelu"});
  const checks::CheckRow* grad = find_row(report, "gradcheck", "reference", "fd");
  ASSERT_NE(grad, nullptr);
  EXPECT_TRUE(grad->passed) << grad->failures.size() << " failures, first: "
                            << (grad->failures.empty() ? "" : grad->failures[0]);
  EXPECT_GT(grad->runs, 0);
  EXPECT_TRUE(report.passed());
  EXPECT_TRUE(report.notes.empty()) << report.notes.front();  // its cases have batch 1 and odd sizes
  int parity_ran = 0;
  for (const checks::CheckRow& row : report.rows)
    if (row.kind == "parity" && !row.skipped) {
      ++parity_ran;
      EXPECT_TRUE(row.passed) << row.backend << "/" << row.precision;
      EXPECT_GT(row.runs, 0);
    }
  // Without a second usable backend there is nothing to compare with: say so, do not pass quietly.
  if (parity_ran == 0) GTEST_SKIP() << "gradcheck passed; no backend besides the reference ran the GELU parity here";
}

TEST(Plugin, BackwardOffByAFactorTwoFailsTheGradcheck) {
  const checks::PluginReport report = checks::check_plugin(kWrongBackward);
  EXPECT_FALSE(report.passed());
  const checks::CheckRow* grad = find_row(report, "gradcheck", "reference", "fd");
  ASSERT_NE(grad, nullptr);
  EXPECT_EQ(grad->op, "square");
  EXPECT_FALSE(grad->passed);
  EXPECT_TRUE(mentions(*grad, "d input 0")) << (grad->failures.empty() ? "no failures" : grad->failures[0]);
  // |4x − 2x| / max |4x|: up to 0.5 on the largest |x| probed, far above the 1e-2 tolerance.
  EXPECT_GT(grad->worst, 0.1);
  // Its only case is [1, 3, 5, 7]: batch 1 and odd sizes, so nothing to note.
  EXPECT_TRUE(report.notes.empty());
  EXPECT_LE(grad->worst, 0.5 + 1e-3);
}

TEST(Plugin, OnednnForwardThatDiffersFromTheReferenceFailsParity) {
#ifndef CXRTUNE_HAVE_ONEDNN
  GTEST_SKIP() << "built without oneDNN: the wrong plugin's oneDNN layer is not built";
#else
  const checks::PluginReport report = checks::check_plugin(kWrongOnednn);
  EXPECT_FALSE(report.passed());
  const checks::CheckRow* grad = find_row(report, "gradcheck", "reference", "fd");
  ASSERT_NE(grad, nullptr);
  EXPECT_TRUE(grad->passed) << "the reference itself is right";
  const checks::CheckRow* parity = find_row(report, "parity", "onednn", "f32");
  ASSERT_NE(parity, nullptr);
  EXPECT_EQ(parity->op, "softsign");
  EXPECT_FALSE(parity->passed);
  EXPECT_TRUE(mentions(*parity, "output"));
  EXPECT_GT(parity->worst, 0.05);
#endif
}

TEST(Plugin, OpFilterMustNameARegisteredOp) {
  EXPECT_THROW(checks::check_plugin(kGelu, "relu"), UsageError);
  EXPECT_EQ(checks::check_plugin(kGelu, "gelu").ops, std::vector<std::string>{"gelu"});
}

}  // namespace
}  // namespace cxr
