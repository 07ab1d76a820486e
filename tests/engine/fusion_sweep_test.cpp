// The fusion hooks (Layer::absorb in eval, absorb_in_training and backward_sums_dy in training)
// and the recompute plan on generated graphs: seeded random conv/BN/ReLU/add graphs (residual
// blocks with and without downsampling, fan-outs whose gradients are summed, ReLUs on their
// own), each run on every usable backend with fusions on and off and recompute on and off. One
// training step and one eval forward per configuration, all from the same weights and batch:
// - within a backend, every configuration matches (fusions off, recompute off): training loss
//   within 1e-6, every parameter gradient within 1e-5 + 1e-5·|g| (the tolerance of
//   network_grad_test's TrainingFusionsGiveTheSameGradients: a fused BN+add computes its
//   statistics in its own kernel), eval logits within 1e-5 + 1e-5·|y| (folding BN into the
//   convolution weights rounds once more); recompute alone changes no bit;
// - across backends, (off, off) matches the reference backend within network_grad_test's
//   cross-backend bounds (loss 1e-5, gradients 1e-4 + 1e-3·|g|, eval logits 1e-4 + 1e-4·|y|).
// On oneDNN the sweep must have fused something in eval (absorbed nodes run no forward), so it
// cannot pass vacuously.
// bf16 on oneDNN (where the CPU computes bf16): the same sweep with 16- and 32-channel widths, so
// that nhwc bf16 batch norms run batchnorm_bf16_kernel.h and absorb their residual adds (it must
// absorb some in training); fused and plain agree, and both with the f32 reference, to within
// bf16's rounding (relative norm of each gradient 3e-2; loss 2e-2), and recompute alone changes
// no bit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/network.h"
#include "engine/ops/add.h"
#include "engine/ops/batchnorm2d.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/linear.h"
#include "engine/ops/relu.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "engine/train_step.h"
#include "core/errors.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

const Shape kInput{2, 3, 8, 8};

struct Builder {
  Graph g;
  std::mt19937 rng;
  struct Value {
    int node;
    int64_t channels, size;
  };

  int push(const std::string& name, std::shared_ptr<const OpParams> p, std::vector<int> inputs) {
    g.nodes.push_back({name + std::to_string(g.nodes.size()), rng() % 2 ? "a" : "b", std::move(p), std::move(inputs)});
    return static_cast<int>(g.nodes.size() - 1);
  }
  Value conv(Value x, int64_t cout, int64_t k, int64_t stride) {
    auto p = std::make_shared<ops::Conv2dParams>();
    p->in_channels = x.channels, p->out_channels = cout, p->kernel = k, p->stride = stride, p->padding = k / 2;
    return {push("conv", p, {x.node}), cout, (x.size + 2 * (k / 2) - k) / stride + 1};
  }
  Value bn(Value x, bool relu) {
    auto p = std::make_shared<ops::BatchNorm2dParams>();
    p->channels = x.channels, p->fuse_relu = relu;
    return {push("bn", p, {x.node}), x.channels, x.size};
  }
  Value add(Value a, Value b, bool relu) {
    auto p = std::make_shared<ops::AddParams>();
    p->fuse_relu = relu;
    return {push("add", p, {a.node, b.node}), a.channels, a.size};
  }
  Value relu(Value x) { return {push("relu", std::make_shared<ops::ReluParams>(), {x.node}), x.channels, x.size}; }
  bool coin() { return rng() % 2 == 0; }
};

// A stem, 2-5 random blocks, then avgpool, flatten and a linear layer to 3 classes.
Graph random_graph(unsigned seed, const std::vector<int64_t>& widths = {4, 8, 16}, int64_t size = kInput[2]) {
  Builder b{{}, std::mt19937(seed)};
  b.g.arch = "sweep" + std::to_string(seed);
  b.g.stages = {"a", "b"};
  b.g.in_channels = 3;
  b.g.num_classes = 3;
  Builder::Value x{NodeSpec::kInput, 3, size};
  x = b.bn(b.conv(x, widths[b.rng() % widths.size()], 3, 1), b.coin());
  std::vector<Builder::Value> seen{x};
  const int blocks = 2 + static_cast<int>(b.rng() % 4);
  for (int k = 0; k < blocks; ++k) {
    switch (b.rng() % 4) {
      case 0: {  // conv-bn
        const int64_t stride = x.size > 2 && b.coin() ? 2 : 1;
        x = b.bn(b.conv(x, widths[b.rng() % widths.size()], b.coin() ? 3 : 1, stride), b.coin());
        break;
      }
      case 1: {  // a residual block, downsampling or not
        const bool down = x.size > 2 && b.coin();
        const int64_t out = down ? widths[b.rng() % widths.size()] : x.channels;
        Builder::Value branch = b.bn(b.conv(x, out, 3, down ? 2 : 1), true);
        branch = b.bn(b.conv(branch, out, b.coin() ? 3 : 1, 1), false);
        const Builder::Value identity = down ? b.bn(b.conv(x, out, 1, 2), false) : x;
        x = b.add(branch, identity, b.coin());
        break;
      }
      case 2:
        x = b.relu(x);
        break;
      default: {  // a fan-out: x joins an earlier tensor of its shape, or feeds a conv and an add
        Builder::Value other = x;
        for (const auto& s : seen)
          if (s.channels == x.channels && s.size == x.size && s.node != x.node && b.coin()) other = s;
        if (other.node == x.node) other = b.bn(b.conv(x, x.channels, 1, 1), b.coin());
        x = b.add(x, other, b.coin());
      }
    }
    seen.push_back(x);
  }
  auto pool = b.push("pool", std::make_shared<ops::GlobalAvgPoolParams>(), {x.node});
  auto flat = b.push("flat", std::make_shared<ops::FlattenParams>(), {pool});
  auto fc = std::make_shared<ops::LinearParams>();
  fc->in_features = x.channels, fc->out_features = 3;
  b.push("fc", fc, {flat});
  return b.g;
}

struct SweepResult {
  double loss = 0;
  std::vector<std::vector<float>> grads;
  std::vector<float> eval_logits;
  int eval_absorbed = 0;   // nodes that ran no forward in eval
  int train_absorbed = 0;  // and in the training step
};

SweepResult run_config(const std::string& backend_name, const Graph& graph, bool fusions, bool recompute, unsigned seed,
                       DType dtype = DType::F32, const Shape& input_shape = kInput, bool fan_in_init = false) {
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend(backend_name, 2, dtype);
  Network net(graph, registry, *backend);
  net.set_training_fusions(fusions);
  net.set_eval_fusions(fusions);
  net.set_recompute_outputs(recompute);
  ops::SoftmaxCrossEntropyParams loss;
  TrainStep step(net, registry, loss);
  step.prepare(input_shape, {input_shape[0]}, true);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> input(static_cast<size_t>(numel(input_shape)));
  for (float& v : input) v = normal(rng);
  for (Parameter* p : net.parameters()) {
    std::vector<float> v(static_cast<size_t>(p->value.numel()));
    // 0.5·N(0, 1) everywhere, or (the bf16 sweep) weights over √fan-in as an initialiser would:
    // activations growing block by block leave bf16 a saturated softmax and gradients of noise.
    const Shape& shape = p->value.shape();
    const float scale = !fan_in_init || shape.size() < 2
                            ? 0.5f
                            : 1.f / std::sqrt(static_cast<float>(p->value.numel() / shape[0]));
    for (float& x : v) x = scale * normal(rng);
    backend->write_plain(p->value, v.data());
  }
  std::vector<float> labels;
  for (int64_t i = 0; i < input_shape[0]; ++i) labels.push_back(static_cast<float>(i % 3));
  backend->write_plain(step.input(), input.data());
  backend->write_plain(step.targets(), labels.data());
  Context ctx;
  StepProfile train_profile;
  ctx.profile = &train_profile;
  SweepResult r;
  r.loss = step.run(ctx);
  for (double t : train_profile.forward_s) r.train_absorbed += t == 0.0;
  for (Parameter* p : net.parameters()) {
    r.grads.emplace_back(static_cast<size_t>(p->grad.numel()));
    backend->read_plain(p->grad, r.grads.back().data());
  }
  net.prepare(input_shape, false);
  backend->write_plain(net.input(), input.data());
  Context eval;
  eval.training = false;
  StepProfile profile;
  eval.profile = &profile;
  const Tensor& logits = net.forward(eval);
  r.eval_logits.resize(static_cast<size_t>(logits.numel()));
  backend->read_plain(logits, r.eval_logits.data());
  for (double s : profile.forward_s) r.eval_absorbed += s == 0.0;
  return r;
}

void expect_close(const SweepResult& got, const SweepResult& want, double loss_tol, double grad_abs, double grad_rel, double eval_abs,
                  double eval_rel, const std::string& what) {
  EXPECT_NEAR(got.loss, want.loss, loss_tol) << what;
  ASSERT_EQ(got.grads.size(), want.grads.size());
  for (size_t k = 0; k < want.grads.size(); ++k)
    for (size_t i = 0; i < want.grads[k].size(); ++i)
      ASSERT_NEAR(got.grads[k][i], want.grads[k][i], grad_abs + grad_rel * std::abs(want.grads[k][i]))
          << what << ": parameter " << k << "[" << i << "]";
  for (size_t i = 0; i < want.eval_logits.size(); ++i)
    ASSERT_NEAR(got.eval_logits[i], want.eval_logits[i], eval_abs + eval_rel * std::abs(want.eval_logits[i]))
        << what << ": eval logit " << i;
}

TEST(FusionSweep, GeneratedGraphsAgreeWithFusionsAndRecomputeOnAndOff) {
  int onednn_absorbed = 0;
  bool onednn = false;
  for (unsigned seed = 1; seed <= 16; ++seed) {
    const Graph graph = random_graph(seed);
    const SweepResult truth = run_config("reference", graph, false, false, seed);
    for (const std::string& name : compiled_backends()) {
      if (!backend_usable(name)) continue;
      const std::string where = name + " graph " + std::to_string(seed) + " (" + std::to_string(graph.nodes.size()) + " nodes)";
      const SweepResult plain = run_config(name, graph, false, false, seed);
      if (name != "reference") expect_close(plain, truth, 1e-5, 1e-4, 1e-3, 1e-4, 1e-4, where + " vs reference");
      const SweepResult recomputed = run_config(name, graph, false, true, seed);
      EXPECT_EQ(recomputed.loss, plain.loss) << where;
      EXPECT_EQ(recomputed.grads, plain.grads) << where << ": recompute changed a gradient";
      for (bool recompute : {false, true}) {
        const SweepResult fused = run_config(name, graph, true, recompute, seed);
        expect_close(fused, plain, 1e-6, 1e-5, 1e-5, 1e-5, 1e-5,
                     where + " fused" + (recompute ? " + recompute" : ""));
        if (name == "onednn") onednn = true, onednn_absorbed += fused.eval_absorbed - plain.eval_absorbed;
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  if (onednn) EXPECT_GT(onednn_absorbed, 0) << "no oneDNN eval fusion happened in the sweep";
  std::printf("oneDNN eval nodes absorbed over the sweep: %d\n", onednn_absorbed);
}

// ‖got − want‖ / ‖want‖ over all parameter gradients together.
double overall_relative_gradient(const SweepResult& got, const SweepResult& want) {
  double diff = 0, norm = 0;
  for (size_t k = 0; k < want.grads.size(); ++k)
    for (size_t i = 0; i < want.grads[k].size(); ++i) {
      diff += std::pow(got.grads[k][i] - want.grads[k][i], 2.0);
      norm += std::pow(want.grads[k][i], 2.0);
    }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// ‖got − want‖ / ‖want‖ of every parameter gradient, the largest.
double worst_relative_gradient(const SweepResult& got, const SweepResult& want, size_t* at) {
  double worst = 0;
  for (size_t k = 0; k < want.grads.size(); ++k) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < want.grads[k].size(); ++i) {
      diff += std::pow(got.grads[k][i] - want.grads[k][i], 2.0);
      norm += std::pow(want.grads[k][i], 2.0);
    }
    const double r = std::sqrt(diff / std::max(norm, 1e-30));
    if (r > worst) worst = r, *at = k;
  }
  return worst;
}

// Batch statistics over 2·8·8 values or fewer make bf16's rounding swing gradients by tens of
// percent: the bf16 sweep runs on a batch of 8 at 16×16.
const Shape kBf16Input{8, 3, 16, 16};

TEST(FusionSweep, Bf16GraphsAgreeWithFusionsAndRecomputeOnAndOff) {
  std::string why;
  if (!backend_usable("onednn", &why)) GTEST_SKIP() << "oneDNN is not usable here: " << why;
  try {
    make_backend("onednn", 1, DType::BF16);
  } catch (const UsageError& e) {
    GTEST_SKIP() << e.what();
  }
  const double kOverall = 0.2, kWorst = 0.4;  // measured at most 0.12 and 0.22 (AMX Xeon)
  int absorbed = 0;
  for (unsigned seed = 1; seed <= 8; ++seed) {
    const Graph graph = random_graph(seed, {16, 32}, kBf16Input[2]);
    const std::string where = "bf16 graph " + std::to_string(seed);
    const SweepResult truth = run_config("reference", graph, false, false, seed, DType::F32, kBf16Input, true);
    const SweepResult plain = run_config("onednn", graph, false, false, seed, DType::BF16, kBf16Input, true);
    const SweepResult recomputed = run_config("onednn", graph, false, true, seed, DType::BF16, kBf16Input, true);
    EXPECT_EQ(recomputed.loss, plain.loss) << where;
    EXPECT_EQ(recomputed.grads, plain.grads) << where << ": recompute changed a gradient";
    size_t at = 0;
    EXPECT_NEAR(plain.loss, truth.loss, 2e-2 * std::max(1.0, std::abs(truth.loss))) << where << " vs reference";
    EXPECT_LT(overall_relative_gradient(plain, truth), kOverall) << where << " vs reference";
    EXPECT_LT(worst_relative_gradient(plain, truth, &at), kWorst) << where << " vs reference, parameter " << at;
    std::printf("%s: plain vs reference %.3f overall, %.3f worst\n", where.c_str(),
                overall_relative_gradient(plain, truth), worst_relative_gradient(plain, truth, &at));
    for (bool recompute : {false, true}) {
      const SweepResult fused = run_config("onednn", graph, true, recompute, seed, DType::BF16, kBf16Input, true);
      const std::string what = where + " fused" + (recompute ? " + recompute" : "");
      EXPECT_NEAR(fused.loss, plain.loss, 2e-2 * std::max(1.0, std::abs(plain.loss))) << what;
      EXPECT_LT(overall_relative_gradient(fused, plain), kOverall) << what;
      EXPECT_LT(worst_relative_gradient(fused, plain, &at), kWorst) << what << ", parameter " << at;
      std::printf("%s vs plain %.3f overall, %.3f worst\n", what.c_str(), overall_relative_gradient(fused, plain),
                  worst_relative_gradient(fused, plain, &at));
      absorbed += fused.train_absorbed - plain.train_absorbed;
    }
  }
  EXPECT_GT(absorbed, 0) << "no bf16 batch norm absorbed a residual add in training";
  std::printf("bf16 training nodes absorbed over the sweep: %d\n", absorbed);
}

}  // namespace
}  // namespace cxr
