// The trainer on a one-layer network with in-memory batches: global-norm gradient clipping
// moves the weights by exactly lr·max_norm (SGD, one step), early stopping ends the run after
// `patience` epochs without a better validation AUROC, and the stop flag checkpoints first.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "engine/optimizer.h"
#include "engine/trainer.h"
#include "plugins/backends.h"
#include "engine/ops/flatten.h"
#include "engine/ops/linear.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

// Batches of [n, 1, 2, 2] images with labels, fixed at construction.
class VectorSource : public BatchSource {
 public:
  VectorSource(int batches, int64_t n, uint32_t seed) : n_(n) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (int b = 0; b < batches; ++b) {
      images_.emplace_back(static_cast<size_t>(n * 4));
      labels_.emplace_back(static_cast<size_t>(n));
      for (float& v : images_.back()) v = 3.0f * normal(rng);
      for (int64_t i = 0; i < n; ++i) labels_.back()[static_cast<size_t>(i)] = static_cast<float>(i % 2);
    }
  }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(images_.size()); }
  void start_epoch(int64_t, int64_t skip) override { next_ = static_cast<size_t>(skip); }
  bool next(HostBatch& b) override {
    if (next_ >= images_.size()) return false;
    b.images = images_[next_].data();
    b.targets = labels_[next_].data();
    b.n = n_;
    ++next_;
    return true;
  }

 private:
  int64_t n_;
  size_t next_ = 0;
  std::vector<std::vector<float>> images_, labels_;
};

struct Sink : RunSink {
  std::vector<StepRecord> steps;
  std::vector<EpochRecord> epochs;
  std::vector<std::string> saved;
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_epoch(const EpochRecord& r) override { epochs.push_back(r); }
  void save_checkpoint(const std::string& name, const TrainPosition&) override { saved.push_back(name); }
};

struct Tiny {
  LayerRegistry registry;
  std::unique_ptr<Backend> backend = make_backend("reference", 1);
  std::unique_ptr<Network> net;
  std::unique_ptr<TrainStep> step;
  Tiny() {
    register_all_layers(registry);
    Graph g;
    g.arch = "tiny";
    g.stages = {"fc"};
    g.num_classes = 2;
    auto fc = std::make_shared<ops::LinearParams>();
    fc->in_features = 4, fc->out_features = 2;
    g.nodes = {{"flatten", "fc", std::make_shared<ops::FlattenParams>(), {NodeSpec::kInput}}, {"fc", "fc", fc, {0}}};
    net = std::make_unique<Network>(g, registry, *backend);
    ops::SoftmaxCrossEntropyParams loss;
    step = std::make_unique<TrainStep>(*net, registry, loss);
  }
  std::vector<float> weights() {
    std::vector<float> out;
    for (Parameter* p : net->parameters()) {
      std::vector<float> v(static_cast<size_t>(p->value.numel()));
      backend->read_plain(p->value, v.data());
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }
};

TEST(Trainer, GradientClippingBoundsTheStepToLrTimesMaxNorm) {
  Tiny t;
  OptimizerConfig oc;
  oc.name = "sgd";
  oc.momentum = 0;
  oc.lr = 0.5;
  Optimizer opt(oc, ScheduleConfig{}, t.net->parameters(), *t.backend, {"fc"});
  t.step->prepare({8, 1, 2, 2}, {8}, true);
  TrainConfig tc;
  tc.epochs = 1;
  tc.grad_clip = 0.01;  // far below the gradient norm of random data
  Trainer trainer(*t.net, *t.step, opt, tc);
  VectorSource train(1, 8, 1);
  Sink sink;
  const auto before = t.weights();
  std::atomic<bool> stop{false};
  trainer.run(train, nullptr, sink, {}, stop);
  ASSERT_EQ(sink.steps.size(), 1u);
  EXPECT_GT(sink.steps[0].grad_norm.total, 0.01);  // recorded before clipping
  const auto after = t.weights();
  double moved = 0;
  for (size_t i = 0; i < after.size(); ++i) moved += (after[i] - before[i]) * (after[i] - before[i]);
  EXPECT_NEAR(std::sqrt(moved), 0.5 * 0.01, 1e-7);  // torch.nn.utils.clip_grad_norm_ then SGD
}

TEST(Trainer, EarlyStoppingAfterPatienceEpochsWithoutImprovement) {
  Tiny t;
  OptimizerConfig oc;
  oc.freeze = {"fc"};  // nothing moves: validation AUROC cannot improve after epoch 0
  Optimizer opt(oc, ScheduleConfig{}, t.net->parameters(), *t.backend, {"fc"});
  t.step->prepare({8, 1, 2, 2}, {8}, true);
  TrainConfig tc;
  tc.epochs = 10;
  tc.early_stopping = 2;
  tc.class_names = {"a", "b"};
  Trainer trainer(*t.net, *t.step, opt, tc);
  VectorSource train(2, 8, 1), val(2, 8, 2);
  Sink sink;
  std::atomic<bool> stop{false};
  const TrainPosition end = trainer.run(train, &val, sink, {}, stop);
  EXPECT_EQ(sink.epochs.size(), 3u);  // epoch 0 sets the best, epochs 1 and 2 do not improve
  EXPECT_EQ(end.epoch, 3);
  EXPECT_EQ(std::count(sink.saved.begin(), sink.saved.end(), "best"), 1);
}

TEST(Trainer, StopFlagCheckpointsThenThrowsInterrupted) {
  Tiny t;
  Optimizer opt(OptimizerConfig{}, ScheduleConfig{}, t.net->parameters(), *t.backend, {"fc"});
  t.step->prepare({8, 1, 2, 2}, {8}, true);
  TrainConfig tc;
  tc.epochs = 5;
  Trainer trainer(*t.net, *t.step, opt, tc);
  VectorSource train(3, 8, 1);
  Sink sink;
  std::atomic<bool> stop{true};
  EXPECT_THROW(trainer.run(train, nullptr, sink, {}, stop), Interrupted);
  ASSERT_EQ(sink.saved.size(), 1u);
  EXPECT_EQ(sink.saved[0], "last");
  EXPECT_EQ(sink.steps.size(), 1u);
}

}  // namespace
}  // namespace cxr
