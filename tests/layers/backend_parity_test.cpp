// Every (op, backend, precision) of the registry against the reference backend, forward and
// backward, on every test case of the op (plugins/checks/parity.h: plain, native and mixed
// layouts, training and eval, parameter gradients, BN running statistics, the recompute
// contract), the example GELU plugin included. A backend that cannot run here (cuDNN without a
// GPU, bf16 without the ISA) is a visible skip; an entry without test cases fails.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "plugins/checks/parity.h"
#include "tests/layers/test_registry.h"

namespace cxr {
namespace {

using checks::ParityTarget;
}  // namespace
namespace checks {
void PrintTo(const ParityTarget& t, std::ostream* os) { *os << t.op << "/" << t.backend << "/" << t.label(); }
}  // namespace checks
namespace {

class BackendParity : public ::testing::TestWithParam<ParityTarget> {};

TEST_P(BackendParity, MatchesReferenceForwardAndBackward) {
  const checks::CheckRow row = checks::parity_check(swept_registry(), GetParam());
  if (row.skipped) GTEST_SKIP() << row.skip_reason;
  std::printf("[%s/%s/%s] %d runs, worst relative error %.2e (%s)\n", row.op.c_str(), row.backend.c_str(),
              row.precision.c_str(), row.runs, row.worst, row.worst_where.c_str());
  EXPECT_TRUE(row.passed) << joined(row.failures);
  EXPECT_GT(row.runs, 0);
}

INSTANTIATE_TEST_SUITE_P(Registry, BackendParity, ::testing::ValuesIn(checks::parity_targets(swept_registry())),
                         [](const auto& info) {
                           const ParityTarget& t = info.param;
                           std::string suffix = t.dtype == DType::F32 ? "" : "_" + to_string(t.dtype);
                           if (t.conv_algorithm != "direct") suffix += "_" + t.conv_algorithm;
                           return t.op + "_" + t.backend + suffix;
                         });

TEST(Registry, EveryOpHasAReferenceAndTestCases) {
  for (const auto& [op, backend] : swept_registry().entries()) {
    EXPECT_TRUE(swept_registry().has(op, "reference")) << op << " has no reference implementation";
    ASSERT_NE(swept_registry().op_info(op), nullptr) << op;
    EXPECT_FALSE(swept_registry().op_info(op)->cases().empty()) << op;
  }
}

TEST(Registry, GeneratedTablesHoldEveryBackendFile) {
  // sigmoid was added as four new files (engine/ops/sigmoid.*, one per backend) and no list.
  EXPECT_TRUE(swept_registry().has("sigmoid", "reference"));
  for (const std::string& b : compiled_backends()) EXPECT_TRUE(swept_registry().has("sigmoid", b)) << b;
  EXPECT_NE(swept_registry().op_info("sigmoid"), nullptr);
}

TEST(Registry, UnsupportedPairIsATypedErrorNamingTheOp) {
  auto ref = make_backend("reference", 1);
  struct Unknown : OpParams {
    std::string op() const override { return "no_such_op"; }
    std::unique_ptr<OpParams> clone() const override { return std::make_unique<Unknown>(*this); }
  };
  try {
    swept_registry().create(Unknown(), *ref);
    FAIL() << "expected GraphError";
  } catch (const GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_op"), std::string::npos);
  }
}

std::unique_ptr<Layer> no_layer(const OpParams&, Backend&) { return nullptr; }

TEST(Registry, AddingANameTwiceIsAGraphErrorNamingOpAndBackend) {
  LayerRegistry r;
  register_all_layers(r);
  try {
    r.add("relu", "reference", &no_layer);
    FAIL() << "expected GraphError";
  } catch (const GraphError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("relu"), std::string::npos) << what;
    EXPECT_NE(what.find("reference"), std::string::npos) << what;
  }
  EXPECT_THROW(r.add_op({"relu", {}}), GraphError);
}

TEST(Registry, ReplaceIsExplicitAndLogged) {
  LayerRegistry r;
  register_all_layers(r);
  EXPECT_THROW(r.replace("no_such_op", "reference", &no_layer), GraphError);
  ::testing::internal::CaptureStderr();
  r.replace("relu", "reference", &no_layer);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("replaces layer 'relu' on backend 'reference'"), std::string::npos) << log;
  auto ref = make_backend("reference", 1);
  struct Relu : OpParams {
    std::string op() const override { return "relu"; }
    std::unique_ptr<OpParams> clone() const override { return std::make_unique<Relu>(*this); }
  };
  EXPECT_EQ(r.create(Relu(), *ref), nullptr);  // the replacement is what create() uses
}

}  // namespace
}  // namespace cxr
