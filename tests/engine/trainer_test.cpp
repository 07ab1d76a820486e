// The trainer on a one-layer network with in-memory batches: global-norm gradient clipping
// moves the weights by exactly lr·max_norm (SGD, one step), early stopping ends the run after
// `patience` epochs without a better validation AUROC, and the stop flag checkpoints first.
// Validation loss is the training loss's definition (class weights and label smoothing for
// cross-entropy, pos_weight and masked labels for BCE), checked against PyTorch's formulas
// computed by hand in double, over a set whose last batch is short; a non-finite validation loss
// is a RuntimeFailure (exit 3).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "engine/optimizer.h"
#include "engine/trainer.h"
#include "plugins/backends.h"
#include "engine/ops/bce_with_logits.h"
#include "engine/ops/flatten.h"
#include "engine/ops/linear.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

// Batches of [n, 1, 2, 2] images with labels, fixed at construction.
class VectorSource : public BatchSource {
 public:
  // `last`: the size of the final batch (0: n). `labels_per_sample` 2: multi-label targets in
  // {-1 (ignored), 0, 1}.
  VectorSource(int batches, int64_t n, uint32_t seed, int64_t last = 0, int labels_per_sample = 1) : n_(n) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (int b = 0; b < batches; ++b) {
      const int64_t m = b + 1 == batches && last > 0 ? last : n;
      sizes_.push_back(m);
      images_.emplace_back(static_cast<size_t>(m * 4));
      labels_.emplace_back(static_cast<size_t>(m * labels_per_sample));
      for (float& v : images_.back()) v = 3.0f * normal(rng);
      for (int64_t i = 0; i < m * labels_per_sample; ++i)
        labels_.back()[static_cast<size_t>(i)] =
            labels_per_sample == 1 ? static_cast<float>(i % 2) : static_cast<float>(static_cast<int>(rng() % 3) - 1);
    }
  }
  const std::vector<float>& images(size_t b) const { return images_[b]; }
  const std::vector<float>& labels(size_t b) const { return labels_[b]; }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(images_.size()); }
  void start_epoch(int64_t, int64_t skip) override { next_ = static_cast<size_t>(skip); }
  bool next(HostBatch& b) override {
    if (next_ >= images_.size()) return false;
    b.images = images_[next_].data();
    b.targets = labels_[next_].data();
    b.n = sizes_[next_];
    ++next_;
    return true;
  }

 private:
  int64_t n_;
  std::vector<int64_t> sizes_;
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
  explicit Tiny(const OpParams& loss = ops::SoftmaxCrossEntropyParams{}) {
    register_all_layers(registry);
    Graph g;
    g.arch = "tiny";
    g.stages = {"fc"};
    g.num_classes = 2;
    auto fc = std::make_shared<ops::LinearParams>();
    fc->in_features = 4, fc->out_features = 2;
    g.nodes = {{"flatten", "fc", std::make_shared<ops::FlattenParams>(), {NodeSpec::kInput}}, {"fc", "fc", fc, {0}}};
    net = std::make_unique<Network>(g, registry, *backend);
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

// z = W x + b in double for one sample of a [n, 1, 2, 2] batch (torch.nn.Linear on the flattened image).
std::vector<double> logits_of(Tiny& t, const float* x) {
  const auto params = t.net->parameters();
  std::vector<float> w(8), b(2);
  t.backend->read_plain(params[0]->value, w.data());
  t.backend->read_plain(params[1]->value, b.data());
  std::vector<double> z(2);
  for (int c = 0; c < 2; ++c) {
    z[static_cast<size_t>(c)] = b[static_cast<size_t>(c)];
    for (int j = 0; j < 4; ++j) z[static_cast<size_t>(c)] += static_cast<double>(w[static_cast<size_t>(c * 4 + j)]) * x[j];
  }
  return z;
}

Trainer eval_trainer(Tiny& t, StepOptimizer& none, bool multi_label) {
  TrainConfig tc;
  tc.class_names = {"a", "b"};
  tc.multi_label = multi_label;
  return Trainer(*t.net, *t.step, none, tc);
}

struct NoOptimizer : StepOptimizer {
  std::map<std::string, double> step(int64_t) override { return {}; }
};

TEST(Trainer, ValidationLossIsTheWeightedSmoothedCrossEntropyOfTraining) {
  ops::SoftmaxCrossEntropyParams loss;
  loss.class_weights = {1.0f, 3.0f};
  loss.label_smoothing = 0.1;
  Tiny t(loss);
  t.step->prepare({8, 1, 2, 2}, {8}, false);
  NoOptimizer none;
  Trainer trainer = eval_trainer(t, none, false);
  VectorSource val(3, 8, 7, /*last=*/5);
  const EvalResult r = trainer.evaluate(val);
  // torch.nn.functional.cross_entropy(z, y, weight=w, label_smoothing=e): over the whole set,
  // Σ_i [(1-e) w_y (-log p_iy) + e/K Σ_c w_c (-log p_ic)] / Σ_i w_y.
  double num = 0, den = 0;
  const double e = 0.1, w[2] = {1.0, 3.0};
  for (size_t b = 0; b < 3; ++b) {
    const size_t m = b == 2 ? 5 : 8;
    for (size_t i = 0; i < m; ++i) {
      const auto z = logits_of(t, val.images(b).data() + i * 4);
      const auto y = static_cast<size_t>(val.labels(b)[i]);
      const double mx = std::max(z[0], z[1]), lse = mx + std::log(std::exp(z[0] - mx) + std::exp(z[1] - mx));
      num += (1 - e) * w[y] * (lse - z[y]) + e / 2 * (w[0] * (lse - z[0]) + w[1] * (lse - z[1]));
      den += w[y];
    }
  }
  ASSERT_EQ(r.probs.size(), 21u);
  EXPECT_NEAR(r.loss, num / den, 1e-5 * std::max(1.0, num / den));
}

TEST(Trainer, ValidationLossIsTheMaskedPosWeightedBceOfTraining) {
  ops::BceWithLogitsParams loss;
  loss.pos_weight = {2.0f, 0.5f};
  Tiny t(loss);
  t.step->prepare({8, 1, 2, 2}, {8, 2}, false);
  NoOptimizer none;
  Trainer trainer = eval_trainer(t, none, true);
  VectorSource val(2, 8, 9, /*last=*/3, /*labels_per_sample=*/2);
  const EvalResult r = trainer.evaluate(val);
  // binary_cross_entropy_with_logits(z, y, pos_weight=p) over the labels that count (y >= 0):
  // mean of -[p y log σ(z) + (1-y) log(1-σ(z))].
  double sum = 0;
  int64_t terms = 0;
  for (size_t b = 0; b < 2; ++b) {
    const size_t m = b == 1 ? 3 : 8;
    for (size_t i = 0; i < m; ++i) {
      const auto z = logits_of(t, val.images(b).data() + i * 4);
      for (size_t c = 0; c < 2; ++c) {
        const double y = val.labels(b)[i * 2 + c], pw = c == 0 ? 2.0 : 0.5;
        if (y < 0) continue;
        const double log_sig = -std::log1p(std::exp(-z[c])), log_one_minus = -z[c] + log_sig;
        sum += -(pw * y * log_sig + (1 - y) * log_one_minus);
        ++terms;
      }
    }
  }
  ASSERT_GT(terms, 0);
  EXPECT_NEAR(r.loss, sum / static_cast<double>(terms), 1e-5);
}

TEST(Trainer, NonFiniteValidationLossIsARuntimeFailure) {
  // Finite logits (-3e38) whose pos_weighted BCE (100 · 3e38 per positive label) overflows a float.
  ops::BceWithLogitsParams loss;
  loss.pos_weight = {100.0f, 100.0f};
  Tiny t(loss);
  const auto params = t.net->parameters();
  const std::vector<float> w(8, 0.0f), b = {-3e38f, -3e38f};
  t.backend->write_plain(params[0]->value, w.data());
  t.backend->write_plain(params[1]->value, b.data());
  t.step->prepare({8, 1, 2, 2}, {8, 2}, false);
  NoOptimizer none;
  Trainer trainer = eval_trainer(t, none, true);
  VectorSource val(1, 8, 3, 0, /*labels_per_sample=*/2);
  EXPECT_THROW(trainer.evaluate(val), RuntimeFailure);
}

}  // namespace
}  // namespace cxr
