// The network executor's backward plan on small graphs: one where a tensor feeds three consumers
// (so gradients are summed) and two adds (one fused with ReLU), and one where BN+ReLU outputs
// feed a convolution and an add (so the plan drops them after forward and recomputes them in
// backward). Every parameter gradient equals central finite differences of the loss on the
// reference backend; every other usable backend matches the reference's gradients; and the
// recomputing plan gives the very same gradients as keeping the outputs, in less memory. A third
// graph chains two residual adds: in training the BNs before them compute the adds (+ReLU), and
// an add whose output gradient has two writers sums them itself; the same gradients as without
// these fusions. In
// eval, where oneDNN convolutions absorb the BN and residual add that follow them, every backend
// still gives the reference's outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "engine/network.h"
#include "engine/train_step.h"
#include "plugins/backends.h"
#include "engine/ops/add.h"
#include "engine/ops/batchnorm2d.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/linear.h"
#include "engine/ops/relu.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

std::shared_ptr<ops::Conv2dParams> conv(int64_t cin, int64_t cout, int64_t k, int64_t stride = 1) {
  auto p = std::make_shared<ops::Conv2dParams>();
  p->in_channels = cin, p->out_channels = cout, p->kernel = k, p->stride = stride, p->padding = k / 2;
  return p;
}

std::shared_ptr<ops::BatchNorm2dParams> bn(int64_t channels, bool relu) {
  auto p = std::make_shared<ops::BatchNorm2dParams>();
  p->channels = channels, p->fuse_relu = relu;
  return p;
}

std::shared_ptr<ops::AddParams> add(bool relu) {
  auto p = std::make_shared<ops::AddParams>();
  p->fuse_relu = relu;
  return p;
}

std::shared_ptr<ops::LinearParams> fc(int64_t in, int64_t out) {
  auto p = std::make_shared<ops::LinearParams>();
  p->in_features = in, p->out_features = out;
  return p;
}

// Three stages, 3 input channels, 3 classes: the frame of every test graph.
Graph small_graph(const std::string& arch) {
  Graph g;
  g.arch = arch;
  g.stages = {"a", "b", "fc"};
  g.in_channels = 3;
  g.num_classes = 3;
  return g;
}

Graph fanout_graph() {
  Graph g = small_graph("fanout");
  g.nodes = {
      {"c0", "a", conv(3, 5, 3, 2), {NodeSpec::kInput}},         // 0: feeds 1, 2, 4
      {"r", "a", std::make_shared<ops::ReluParams>(), {0}},      // 1
      {"c1", "b", conv(5, 5, 1, 1), {0}},                        // 2
      {"s1", "b", add(false), {1, 2}},                           // 3
      {"s2", "b", add(true), {3, 0}},                            // 4
      {"bn", "b", bn(5, false), {4}},                            // 5
      {"pool", "fc", std::make_shared<ops::GlobalAvgPoolParams>(), {5}},
      {"flat", "fc", std::make_shared<ops::FlattenParams>(), {6}},
      {"fc", "fc", fc(5, 3), {7}},
  };
  return g;
}

Graph conv_bn_graph() {
  Graph g = small_graph("conv_bn");
  g.nodes = {
      {"c0", "a", conv(3, 6, 3), {NodeSpec::kInput}},                     // 0
      {"bn0", "a", bn(6, true), {0}},                                     // 1: recomputed (read by c1)
      {"c1", "b", conv(6, 6, 3), {1}},                                    // 2
      {"bn1", "b", bn(6, true), {2}},                                     // 3: only an add reads it
      {"s", "b", add(false), {3, 1}},                                     // 4
      {"c2", "b", conv(6, 5, 1), {4}},                                    // 5
      {"bn2", "b", bn(5, false), {5}},                                    // 6
      {"pool", "fc", std::make_shared<ops::GlobalAvgPoolParams>(), {6}},  // 7
      {"flat", "fc", std::make_shared<ops::FlattenParams>(), {7}},
      {"fc", "fc", fc(5, 3), {8}},
  };
  return g;
}

// Two residual blocks, the first a downsample-like one whose branches both read the input:
// s1's output feeds c2 and s2, so its gradient has two writers (s2 and c2) — the only one in the
// graph — and s1, an add with ReLU, takes the two summands itself.
Graph residual_graph() {
  Graph g = small_graph("residual");
  g.nodes = {
      {"c1", "a", conv(3, 6, 3), {NodeSpec::kInput}},                     // 0
      {"bn1", "a", bn(6, false), {0}},                                    // 1
      {"cd", "a", conv(3, 6, 1), {NodeSpec::kInput}},                     // 2
      {"bnd", "a", bn(6, false), {2}},                                    // 3
      {"s1", "a", add(true), {1, 3}},                                     // 4: read by c2 and s2
      {"c2", "b", conv(6, 6, 1), {4}},                                    // 5
      {"bn2", "b", bn(6, false), {5}},                                    // 6
      {"s2", "b", add(true), {6, 4}},                                     // 7
      {"pool", "fc", std::make_shared<ops::GlobalAvgPoolParams>(), {7}},  // 8
      {"flat", "fc", std::make_shared<ops::FlattenParams>(), {8}},
      {"fc", "fc", fc(6, 3), {9}},
  };
  return g;
}

struct Fixture {
  LayerRegistry registry;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Network> net;
  std::unique_ptr<TrainStep> step;
  std::vector<float> input, labels{0, 2, 1};

  explicit Fixture(const std::string& backend_name, Graph graph = fanout_graph(), bool recompute = true,
                   bool fusions = true) {
    register_all_layers(registry);
    backend = make_backend(backend_name, 2);
    net = std::make_unique<Network>(std::move(graph), registry, *backend);
    net->set_recompute_outputs(recompute);
    net->set_training_fusions(fusions);
    ops::SoftmaxCrossEntropyParams loss;
    step = std::make_unique<TrainStep>(*net, registry, loss);
    step->prepare({3, 3, 9, 7}, {3}, true);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    input.resize(3 * 3 * 9 * 7);
    for (float& x : input) x = normal(rng);
    for (Parameter* p : net->parameters()) {
      std::vector<float> v(static_cast<size_t>(p->value.numel()));
      for (float& x : v) x = 0.5f * normal(rng);
      backend->write_plain(p->value, v.data());
    }
  }
  double loss(StepProfile* profile = nullptr) {
    backend->write_plain(step->input(), input.data());
    backend->write_plain(step->targets(), labels.data());
    Context ctx;
    ctx.profile = profile;
    return step->run(ctx);
  }
  std::vector<float> read(const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    backend->read_plain(t, v.data());
    return v;
  }
};

void expect_finite_differences(Fixture& f) {
  f.loss();
  for (Parameter* p : f.net->parameters()) {
    const std::vector<float> grad = f.read(p->grad);
    std::vector<float> value = f.read(p->value);
    for (size_t i = 0; i < value.size(); i += std::max<size_t>(1, value.size() / 6)) {
      const float saved = value[i];
      const float eps = 1e-2f;
      value[i] = saved + eps;
      f.backend->write_plain(p->value, value.data());
      const double up = f.loss();
      value[i] = saved - eps;
      f.backend->write_plain(p->value, value.data());
      const double down = f.loss();
      value[i] = saved;
      f.backend->write_plain(p->value, value.data());
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grad[i], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << p->name << "[" << i << "]";
    }
  }
}

TEST(NetworkGrad, FanOutGradientsMatchFiniteDifferences) {
  Fixture f("reference");
  expect_finite_differences(f);
}

TEST(NetworkGrad, RecomputedBatchNormGradientsMatchFiniteDifferences) {
  Fixture f("reference", conv_bn_graph());
  expect_finite_differences(f);
}

TEST(NetworkGrad, ChainedResidualGradientsMatchFiniteDifferences) {
  Fixture f("reference", residual_graph());
  expect_finite_differences(f);
}

void expect_backends_match_reference(const std::function<Graph()>& graph) {
  Fixture ref("reference", graph());
  ref.loss();
  int compared = 0;
  for (const std::string& name : compiled_backends()) {
    if (name == "reference" || !backend_usable(name)) continue;
    ++compared;
    Fixture other(name, graph());
    for (size_t k = 0; k < ref.net->parameters().size(); ++k) {
      const auto v = ref.read(ref.net->parameters()[k]->value);
      other.backend->write_plain(other.net->parameters()[k]->value, v.data());
    }
    EXPECT_NEAR(other.loss(), ref.loss(), 1e-5);
    for (size_t k = 0; k < ref.net->parameters().size(); ++k) {
      const auto a = other.read(other.net->parameters()[k]->grad);
      const auto b = ref.read(ref.net->parameters()[k]->grad);
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], b[i], 1e-4 + 1e-3 * std::abs(b[i]))
            << name << " " << ref.net->parameters()[k]->name << "[" << i << "]";
    }
  }
  // Only the reference runs here: nothing was compared, which must show as a skip, not a pass.
  if (compared == 0) GTEST_SKIP() << "no backend besides the reference is usable on this machine";
}

TEST(NetworkGrad, EveryBackendMatchesReferenceOnFanOutGraph) { expect_backends_match_reference(fanout_graph); }

TEST(NetworkGrad, EveryBackendMatchesReferenceOnRecomputedBatchNorm) {
  expect_backends_match_reference(conv_bn_graph);
}

TEST(NetworkGrad, EveryBackendMatchesReferenceOnChainedResiduals) { expect_backends_match_reference(residual_graph); }

// The training fusions change passes over memory, not the maths. Where the oneDNN backend uses
// them, a BN computes the residual add after it (its own statistics kernel, so rounding may
// differ from oneDNN's BN by an ulp or so) and the add sums its two gradient summands itself;
// the network then sums nothing, and neither add runs a forward of its own.
TEST(NetworkGrad, TrainingFusionsGiveTheSameGradients) {
  for (const std::string& name : compiled_backends()) {
    if (!backend_usable(name)) continue;
    Fixture plain(name, residual_graph(), true, /*fusions=*/false), fused(name, residual_graph());
    for (size_t k = 0; k < plain.net->parameters().size(); ++k) {
      const auto v = plain.read(plain.net->parameters()[k]->value);
      fused.backend->write_plain(fused.net->parameters()[k]->value, v.data());
    }
    StepProfile plain_profile, fused_profile;
    for (int step = 0; step < 2; ++step)
      EXPECT_NEAR(plain.loss(&plain_profile), fused.loss(&fused_profile), 1e-6) << name;
    EXPECT_GT(plain_profile.gradient_sums_s, 0.0) << name;
    if (name == "onednn") {
      EXPECT_EQ(fused_profile.gradient_sums_s, 0.0) << "the add did not take the sum";
      // The BN+add kernel reads 16- and 8-channel blocks (AVX-512 and AVX2 oneDNN layouts), so
      // both BNs before an add compute it and the adds run no forward of their own.
      EXPECT_EQ(fused_profile.forward_s.at(4), 0.0) << "bnd did not absorb s1";
      EXPECT_EQ(fused_profile.forward_s.at(7), 0.0) << "bn2 did not absorb s2";
      EXPECT_GT(plain_profile.forward_s.at(7), 0.0);
    }
    for (size_t k = 0; k < plain.net->parameters().size(); ++k) {
      const auto a = fused.read(fused.net->parameters()[k]->grad);
      const auto b = plain.read(plain.net->parameters()[k]->grad);
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], b[i], 1e-5 + 1e-5 * std::abs(b[i])) << name << " " << plain.net->parameters()[k]->name << "[" << i << "]";
    }
    for (const StateEntry& e : fused.net->state())  // running statistics too
      if (e.name.find("running") != std::string::npos) {
        const auto a = fused.read(*e.value);
        std::vector<float> b;
        for (const StateEntry& o : plain.net->state())
          if (o.name == e.name) b = plain.read(*o.value);
        ASSERT_EQ(a.size(), b.size()) << e.name;
        for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6 + 1e-6 * std::abs(b[i])) << e.name;
      }
  }
}

// Dropping BN+ReLU outputs and recomputing them changes memory, never a gradient bit: the
// recompute runs the same arithmetic on the same inputs and saved statistics.
TEST(NetworkGrad, RecomputingOutputsGivesTheSameGradientsInLessMemory) {
  for (const std::string& name : compiled_backends()) {
    if (!backend_usable(name)) continue;
    Fixture kept(name, conv_bn_graph(), /*recompute=*/false), recomputed(name, conv_bn_graph());
    for (size_t k = 0; k < kept.net->parameters().size(); ++k) {
      const auto v = kept.read(kept.net->parameters()[k]->value);
      recomputed.backend->write_plain(recomputed.net->parameters()[k]->value, v.data());
    }
    for (int step = 0; step < 2; ++step) EXPECT_EQ(kept.loss(), recomputed.loss()) << name;
    EXPECT_LT(recomputed.net->activation_memory().kept, kept.net->activation_memory().kept) << name;
    for (size_t k = 0; k < kept.net->parameters().size(); ++k) {
      const auto a = recomputed.read(recomputed.net->parameters()[k]->grad);
      const auto b = kept.read(kept.net->parameters()[k]->grad);
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_EQ(a[i], b[i]) << name << " " << kept.net->parameters()[k]->name << "[" << i << "]";
    }
  }
}

// Eval after a training step (so the BN running statistics are not the initial ones): c1
// absorbs bn1 (with its ReLU) and then the add, whose other summand is bn0's output.
TEST(NetworkGrad, EvalFusionsMatchReference) {
  Fixture ref("reference", conv_bn_graph());
  ref.loss();
  auto eval_logits = [](Fixture& f, StepProfile* profile) {
    f.net->prepare({3, 3, 9, 7}, false);
    f.backend->write_plain(f.net->input(), f.input.data());
    Context ctx;
    ctx.training = false;
    ctx.profile = profile;
    return f.read(f.net->forward(ctx));
  };
  const auto want = eval_logits(ref, nullptr);
  int compared = 0;
  for (const std::string& name : compiled_backends()) {
    if (name == "reference" || !backend_usable(name)) continue;
    ++compared;
    Fixture other(name, conv_bn_graph());
    for (size_t k = 0; k < ref.net->parameters().size(); ++k) {
      const auto v = ref.read(ref.net->parameters()[k]->value);
      other.backend->write_plain(other.net->parameters()[k]->value, v.data());
    }
    other.loss();
    StepProfile profile;
    const auto got = eval_logits(other, &profile);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4 + 1e-4 * std::abs(want[i])) << name;
    if (name == "onednn") {  // absorbed nodes do not run: their forward time stays zero
      EXPECT_EQ(profile.forward_s.at(3), 0.0) << "bn1 not absorbed";
      EXPECT_EQ(profile.forward_s.at(4), 0.0) << "the add not absorbed";
      EXPECT_GT(profile.forward_s.at(2), 0.0);
    }
  }
  if (compared == 0) GTEST_SKIP() << "no backend besides the reference is usable on this machine";
}

}  // namespace
}  // namespace cxr
