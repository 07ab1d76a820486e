// Data-parallel training and gradient accumulation in one process (issue #20): the ranks are
// threads joined by ThreadCommunicator, each with its own ResNet-18 (32 px, one oneDNN thread),
// running the real Trainer, GradientReducer and Loader.
// - accumulate_steps 2 gives the mean of the two half-batch gradients computed separately, and
//   the reducer takes every trainable parameter exactly once;
// - 2 ranks ≡ 1 process with accumulate_steps 2: losses (1e-6 relative), per-stage gradient
//   norms (1e-5), weights after 3 Adam steps (1e-6), and the two ranks' weights bit-identical;
// - evaluation sharded over 3 ranks and gathered equals the 1-process evaluation, every sample
//   once and in the data set's order;
// - the Loader's shards of every batch, concatenated in rank order, are the 1-process batch, so
//   which sample lands in which step does not depend on the number of ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

#include "engine/gradient_reducer.h"
#include "engine/init.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "engine/optimizer.h"
#include "engine/resnet.h"
#include "engine/trainer.h"
#include "io/dataset.h"
#include "io/demo_data.h"
#include "io/loader.h"
#include "plugins/backends.h"
#include "tests/distributed/thread_communicator.h"

namespace cxr {
namespace {

constexpr int64_t kSize = 32, kBatch = 8;

// Fixed random global batches; rank r of `ranks` sees rows [r·n/ranks, (r+1)·n/ranks) of each,
// as the Loader gives them.
class Batches : public BatchSource {
 public:
  Batches(int count, int64_t n, uint32_t seed, int64_t last = 0) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (int b = 0; b < count; ++b) {
      const int64_t m = b + 1 == count && last > 0 ? last : n;
      std::vector<float> images(static_cast<size_t>(m * 3 * kSize * kSize)), labels(static_cast<size_t>(m));
      for (float& v : images) v = normal(rng);
      std::vector<std::string> ids;
      for (int64_t i = 0; i < m; ++i) {
        labels[static_cast<size_t>(i)] = static_cast<float>(rng() % 2);
        ids.push_back("b" + std::to_string(b) + "/" + std::to_string(i));
      }
      images_.push_back(std::move(images)), labels_.push_back(std::move(labels)), ids_.push_back(std::move(ids));
    }
  }
  Batches shard(int rank, int ranks) const {
    Batches out = *this;
    for (size_t b = 0; b < images_.size(); ++b) {
      const auto n = static_cast<int64_t>(labels_[b].size());
      const int64_t lo = rank * n / ranks, hi = (rank + 1) * n / ranks, per = 3 * kSize * kSize;
      out.images_[b].assign(images_[b].begin() + lo * per, images_[b].begin() + hi * per);
      out.labels_[b].assign(labels_[b].begin() + lo, labels_[b].begin() + hi);
      out.ids_[b].assign(ids_[b].begin() + lo, ids_[b].begin() + hi);
    }
    return out;
  }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(images_.size()); }
  void start_epoch(int64_t, int64_t skip) override { next_ = static_cast<size_t>(skip); }
  bool next(HostBatch& b) override {
    if (next_ >= images_.size()) return false;
    b.images = images_[next_].data();
    b.targets = labels_[next_].data();
    b.n = static_cast<int64_t>(labels_[next_].size());
    b.ids = ids_[next_];
    ++next_;
    return true;
  }

 private:
  size_t next_ = 0;
  std::vector<std::vector<float>> images_, labels_;
  std::vector<std::vector<std::string>> ids_;
};

struct Sink : RunSink {
  std::vector<StepRecord> steps;
  std::vector<EpochRecord> epochs;
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_epoch(const EpochRecord& r) override { epochs.push_back(r); }
  void save_checkpoint(const std::string&, const TrainPosition&) override {}
};

// ResNet-18 prepared for training on `micro` samples, with Adam; the same weights for a seed.
struct Model {
  LayerRegistry registry;
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  std::unique_ptr<Network> net;
  std::unique_ptr<TrainStep> step;
  std::unique_ptr<Optimizer> optimizer;
  explicit Model(int64_t micro) {
    register_all_layers(registry);
    ResNetConfig rc;
    rc.arch = "resnet18", rc.num_classes = 2, rc.in_channels = 3;
    net = std::make_unique<Network>(build_resnet(rc), registry, *backend);
    init_torchvision(*net, 7);
    step = std::make_unique<TrainStep>(*net, registry, ops::SoftmaxCrossEntropyParams{});
    OptimizerConfig oc;
    oc.name = "adam", oc.lr = 1e-3;
    optimizer = std::make_unique<Optimizer>(oc, ScheduleConfig{}, net->parameters(), *backend, net->graph().stages);
    step->prepare({micro, 3, kSize, kSize}, {micro}, true);
  }
  std::vector<float> tensor(const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    backend->read_plain(t, v.data());
    return v;
  }
  std::vector<float> all(bool gradients) {
    std::vector<float> out;
    for (Parameter* p : net->parameters())
      if (p->trainable) {
        const auto v = tensor(gradients ? p->grad : p->value);
        out.insert(out.end(), v.begin(), v.end());
      }
    return out;
  }
};

double max_relative(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0, scale = 0;
  for (float v : b) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]) / std::max(std::fabs(static_cast<double>(b[i])), 1e-3 * scale));
  return worst;
}

TEST(GradientAccumulation, TwoMicroBatchesGiveTheMeanOfTheTwoHalfBatchGradients) {
  Model m(kBatch / 2);
  Batches data(1, kBatch, 11);
  HostBatch batch;
  data.start_epoch(0, 0);
  ASSERT_TRUE(data.next(batch));
  const int64_t per = 3 * kSize * kSize;
  Context ctx;
  std::vector<std::vector<float>> halves;
  for (int h = 0; h < 2; ++h) {  // each half alone, gradients read out after its backward
    m.backend->write_plain(m.step->input(), batch.images + h * (kBatch / 2) * per);
    m.backend->write_plain(m.step->targets(), batch.targets + h * (kBatch / 2));
    m.step->run(ctx);
    halves.push_back(m.all(true));
  }
  // The same two halves through the reducer, counting which nodes report parameters.
  struct Counting : BackwardObserver {
    GradientReducer* reducer = nullptr;
    std::map<size_t, int> calls;
    void gradients_ready(size_t node) override {
      ++calls[node];
      reducer->gradients_ready(node);
    }
  } counting;
  SingleProcess one;
  GradientReducer reducer(*m.net, one);
  counting.reducer = &reducer;
  int64_t trainable = 0;
  for (Parameter* p : m.net->parameters()) trainable += p->trainable ? p->grad.numel() : 0;
  EXPECT_EQ(reducer.floats(), trainable);  // every trainable parameter has a place, once
  ctx.backward_observer = &counting;
  for (int h = 0; h < 2; ++h) {
    m.backend->write_plain(m.step->input(), batch.images + h * (kBatch / 2) * per);
    m.backend->write_plain(m.step->targets(), batch.targets + h * (kBatch / 2));
    reducer.begin_micro_batch(h, 2);
    m.step->run(ctx);  // a parameter reported twice would throw here
    reducer.end_micro_batch();
  }
  reducer.finish(0.5);
  for (const auto& [node, n] : counting.calls) EXPECT_EQ(n, 2) << "node " << node;  // once per backward
  const std::vector<float> accumulated = m.all(true);
  ASSERT_EQ(accumulated.size(), halves[0].size());
  size_t differing = 0;
  for (size_t i = 0; i < accumulated.size(); ++i) {
    const float expected = (halves[0][i] + halves[1][i]) * 0.5f;
    differing += accumulated[i] != expected;
  }
  EXPECT_EQ(differing, 0u) << "of " << accumulated.size() << " gradient elements";
  // Not trivially equal: the halves' gradients differ.
  EXPECT_GT(max_relative(halves[0], halves[1]), 1e-2);
}

struct RunResult {
  std::vector<StepRecord> steps;
  std::vector<float> weights;
  std::vector<float> state;  // parameters and buffers, f32
};

RunResult train(Model& m, BatchSource& data, int64_t accumulate, Communicator* comm) {
  TrainConfig tc;
  tc.epochs = 1;
  tc.accumulate_steps = accumulate;
  tc.comm = comm;
  Trainer trainer(*m.net, *m.step, *m.optimizer, tc);
  Sink sink;
  std::atomic<bool> stop{false};
  trainer.run(data, nullptr, sink, {}, stop);
  RunResult r;
  r.steps = sink.steps;
  r.weights = m.all(false);
  for (const StateEntry& e : m.net->state())
    if (e.value->dtype() == DType::F32) {
      const auto v = m.tensor(*e.value);
      r.state.insert(r.state.end(), v.begin(), v.end());
    }
  return r;
}

TEST(DataParallel, TwoRanksEqualOneProcessAccumulatingTwoMicroBatches) {
  const Batches data(3, kBatch, 5);
  Model single(kBatch / 2);
  Batches all = data;
  const RunResult one = train(single, all, 2, nullptr);

  std::vector<RunResult> ranks(2);
  test::run_on_ranks(2, [&](int r, Communicator& comm) {
    Model m(kBatch / 2);
    Batches shard = data.shard(r, 2);
    ranks[static_cast<size_t>(r)] = train(m, shard, 1, &comm);
  });

  ASSERT_EQ(one.steps.size(), 3u);
  for (const RunResult& rank : ranks) {
    ASSERT_EQ(rank.steps.size(), 3u);
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_NEAR(rank.steps[s].loss, one.steps[s].loss, 1e-6 * std::fabs(one.steps[s].loss)) << "step " << s;
      for (const auto& [stage, norm] : one.steps[s].grad_norm.stage)
        EXPECT_NEAR(rank.steps[s].grad_norm.stage.at(stage), norm, 1e-5 * norm) << "step " << s << " " << stage;
    }
    EXPECT_LE(max_relative(rank.weights, one.weights), 1e-6);
  }
  // The steps moved the weights (a step that did nothing would pass the comparisons above).
  EXPECT_GT(max_relative(one.weights, Model(kBatch / 2).all(false)), 1e-4);
  // Every rank holds the same bits: parameters, and BN statistics (rank 0's, broadcast).
  EXPECT_TRUE(ranks[0].state == ranks[1].state);
}

TEST(DataParallel, GatheredEvaluationOverThreeRanksEqualsOneProcess) {
  const Batches val(3, kBatch, 9, /*last=*/5);  // 21 samples: shards of 2 or 3, the last 1 or 2
  TrainConfig tc;
  tc.class_names = {"a", "b"};
  Model single(kBatch / 2);
  Batches all = val;
  const EvalResult one = Trainer(*single.net, *single.step, *single.optimizer, tc).evaluate(all);
  ASSERT_EQ(one.ids.size(), 21u);

  std::vector<EvalResult> ranks(3);
  test::run_on_ranks(3, [&](int r, Communicator& comm) {
    Model m(kBatch / 2);
    Batches shard = val.shard(r, 3);
    TrainConfig c = tc;
    c.comm = &comm;
    ranks[static_cast<size_t>(r)] = Trainer(*m.net, *m.step, *m.optimizer, c).evaluate(shard);
  });
  for (const EvalResult& e : ranks) {
    EXPECT_EQ(e.ids, one.ids);  // every sample once, in the data set's order
    ASSERT_EQ(e.probs.size(), one.probs.size());
    for (size_t i = 0; i < e.probs.size(); ++i)
      for (size_t c = 0; c < 2; ++c) EXPECT_NEAR(e.probs[i][c], one.probs[i][c], 1e-5) << one.ids[i];
    EXPECT_EQ(e.targets, one.targets);
    EXPECT_NEAR(e.loss, one.loss, 1e-5 * std::fabs(one.loss));
    EXPECT_NEAR(e.metrics.macro_auroc, one.metrics.macro_auroc, 1e-6);
  }
}

TEST(DataParallel, LoaderShardsAreTheOneProcessBatchInRankOrder) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("cxr_dp_loader_" + std::to_string(getpid()));
  DemoDataSpec spec;
  spec.out_dir = dir.string(), spec.count = 40, spec.size = 32, spec.seed = 3;
  write_demo_data(spec);
  for (const bool training : {true, false}) {
    const Dataset ds = scan_folder_dataset((dir / "train").string());
    auto batches_of = [&](int rank, int ranks) {
      LoaderConfig c;
      c.batch_size = training ? 8 : 7;  // eval: a short last batch split over the ranks
      c.transform.size = 16;
      c.shuffle = training, c.drop_last = training, c.seed = 4, c.rank = rank, c.ranks = ranks;
      Loader loader(ds, c);
      std::vector<std::vector<std::string>> out;
      loader.start_epoch(2, 0);
      HostBatch b;
      while (loader.next(b)) out.push_back(b.ids);
      return out;
    };
    const auto one = batches_of(0, 1);
    ASSERT_GE(one.size(), 3u);
    for (const int ranks : {2, 4}) {
      std::vector<std::vector<std::string>> joined(one.size());
      for (int r = 0; r < ranks; ++r) {
        const auto shard = batches_of(r, ranks);
        ASSERT_EQ(shard.size(), one.size()) << "rank " << r << " of " << ranks;
        for (size_t b = 0; b < shard.size(); ++b) joined[b].insert(joined[b].end(), shard[b].begin(), shard[b].end());
      }
      EXPECT_EQ(joined, one) << ranks << " ranks, " << (training ? "training" : "evaluation");
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cxr
