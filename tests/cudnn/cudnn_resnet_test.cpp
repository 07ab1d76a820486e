// A whole ResNet-18/50 training step (train-mode forward, softmax cross-entropy, backward) on the
// cuDNN backend against the CPU backend (oneDNN; the reference where oneDNN is not built) on the
// same torchvision-initialised weights and batch (4 × 3 × 64 × 64, 5 classes): logits, loss,
// per-stage gradient norms and BN running statistics; then an eval-mode forward with the updated
// running statistics (cuDNN's BN inference path) on the same batch. f32 must agree tightly (no TF32
// anywhere); bf16/f16 activations and convolutions (f32 BN statistics, loss and parameters)
// within mixed-precision tolerances. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/grad_stats.h"
#include "engine/init.h"
#include "engine/resnet.h"
#include "engine/train_step.h"
#include "plugins/backends.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

constexpr int64_t kBatch = 4, kSize = 64, kClasses = 5;

struct Case {
  std::string arch;
  DType dtype;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.arch << "/" << to_string(c.dtype); }

// Relative tolerances by compute dtype: logits (to their largest magnitude), loss, stage norms,
// running statistics (to max(1, |value|)).
struct Tolerance {
  double logits, loss, norms, running;
};
Tolerance tolerance(DType dt) {
  switch (dt) {
    case DType::BF16:
      return {8e-2, 3e-2, 1.5e-1, 3e-2};
    case DType::F16:
      return {3e-2, 1e-2, 8e-2, 1e-2};
    default:
      return {1e-4, 1e-4, 1e-3, 1e-4};
  }
}

struct StepResult {
  std::vector<float> logits, eval_logits;
  double loss = 0;
  GradNorms norms;
  std::vector<std::vector<float>> running;  // every running_mean / running_var, state order
};

std::vector<float> read(Backend& b, const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  b.read_plain(t, v.data());
  return v;
}

bool is_running_stat(const std::string& name) {
  return name.find("running_mean") != std::string::npos ||
         name.find("running_var") != std::string::npos;
}

// One training step of `arch` on `backend` from `state` (values in Network::state() order).
StepResult train_step(Backend& backend, const LayerRegistry& registry, const std::string& arch,
                      const std::vector<std::vector<float>>& state, const std::vector<float>& input,
                      const std::vector<float>& labels) {
  ResNetConfig rc;
  rc.arch = arch;
  rc.num_classes = kClasses;
  Network net(build_resnet(rc), registry, backend);
  auto entries = net.state();
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].value->dtype() == DType::I64)
      *entries[i].value->data_as<int64_t>() = 0;
    else
      backend.write_plain(*entries[i].value, state[i].data());
  ops::SoftmaxCrossEntropyParams loss;
  TrainStep step(net, registry, loss);
  step.prepare({kBatch, 3, kSize, kSize}, {kBatch}, true);
  backend.write_plain(step.input(), input.data());
  backend.write_plain(step.targets(), labels.data());
  Context ctx;
  StepResult r;
  r.loss = step.run(ctx);
  r.logits = read(backend, step.logits());
  r.norms = grad_norms(backend, net.parameters(), net.graph().stages);
  for (const StateEntry& e : net.state())
    if (is_running_stat(e.name)) r.running.push_back(read(backend, *e.value));
  net.prepare({kBatch, 3, kSize, kSize}, /*training=*/false);
  backend.write_plain(net.input(), input.data());
  Context eval;
  eval.training = false;
  r.eval_logits = read(backend, net.forward(eval));
  return r;
}

class CudnnResnet : public ::testing::TestWithParam<Case> {};

TEST_P(CudnnResnet, TrainStepMatchesTheCpuBackend) {
  const Case c = GetParam();
  std::string why;
  if (!backend_usable("cudnn", &why)) GTEST_SKIP() << why;
  LayerRegistry registry;
  register_all_layers(registry);
  auto cpu = make_backend("cpu", 0);
  auto gpu = make_backend("cudnn", 1, c.dtype);

  // Shared starting point: torchvision's initialisation drawn on the CPU backend.
  std::vector<std::vector<float>> state;
  {
    ResNetConfig rc;
    rc.arch = c.arch;
    rc.num_classes = kClasses;
    Network init(build_resnet(rc), registry, *cpu);
    init_torchvision(init, 7);
    for (const StateEntry& e : init.state())
      state.push_back(e.value->dtype() == DType::I64 ? std::vector<float>{} : read(*cpu, *e.value));
  }
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> input(static_cast<size_t>(kBatch * 3 * kSize * kSize));
  for (float& v : input) v = normal(rng);
  const std::vector<float> labels{0, 3, 1, 4};

  const StepResult want = train_step(*cpu, registry, c.arch, state, input, labels);
  const StepResult got = train_step(*gpu, registry, c.arch, state, input, labels);
  const Tolerance tol = tolerance(c.dtype);

  double num = 0, den = 0;
  for (size_t i = 0; i < want.logits.size(); ++i) {
    num = std::max(num, std::abs(static_cast<double>(got.logits[i]) - want.logits[i]));
    den = std::max(den, std::abs(static_cast<double>(want.logits[i])));
  }
  const double logit_err = num / den;
  EXPECT_LT(logit_err, tol.logits) << "logits";
  num = 0, den = 0;
  ASSERT_EQ(got.eval_logits.size(), want.eval_logits.size());
  for (size_t i = 0; i < want.eval_logits.size(); ++i) {
    num = std::max(num, std::abs(static_cast<double>(got.eval_logits[i]) - want.eval_logits[i]));
    den = std::max(den, std::abs(static_cast<double>(want.eval_logits[i])));
  }
  const double eval_err = num / den;
  EXPECT_LT(eval_err, tol.logits) << "eval-mode logits (BN inference with running statistics)";
  const double loss_err = std::abs(got.loss - want.loss) / want.loss;
  EXPECT_LT(loss_err, tol.loss) << got.loss << " vs " << want.loss;
  double worst_norm = 0;
  for (const auto& [stage, w] : want.norms.stage) {
    const double g = got.norms.stage.at(stage);
    const double e = std::abs(g - w) / w;
    worst_norm = std::max(worst_norm, e);
    EXPECT_LT(e, tol.norms) << stage << ": " << g << " vs " << w;
  }
  EXPECT_TRUE(got.norms.finite) << "first non-finite stage: " << got.norms.first_nonfinite_stage;
  double worst_running = 0;
  for (size_t k = 0; k < want.running.size(); ++k)
    for (size_t i = 0; i < want.running[k].size(); ++i)
      worst_running = std::max(
          worst_running, std::abs(static_cast<double>(got.running[k][i]) - want.running[k][i]) /
                             std::max(1.0, std::abs(static_cast<double>(want.running[k][i]))));
  EXPECT_LT(worst_running, tol.running) << "BN running statistics";
  std::printf(
      "[%s/%s vs %s] logits %.2e, loss %.6f vs %.6f, worst stage norm %.2e, running stats %.2e, "
      "eval logits %.2e\n",
      c.arch.c_str(), to_string(c.dtype).c_str(), cpu->name().c_str(), logit_err, got.loss,
      want.loss, worst_norm, worst_running, eval_err);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* arch : {"resnet18", "resnet50"})
    for (DType dt : {DType::F32, DType::BF16, DType::F16}) out.push_back({arch, dt});
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, CudnnResnet, ::testing::ValuesIn(cases()), [](const auto& info) {
  return info.param.arch + "_" + to_string(info.param.dtype);
});

}  // namespace
}  // namespace cxr
