// Data-parallel training and gradient accumulation in one process (issue #20): the ranks are
// threads joined by ThreadCommunicator, each with its own ResNet-18 (32 px, one oneDNN thread),
// running the real Trainer, GradientReducer and Loader.
// - accumulate_steps 2 gives the mean of the two half-batch gradients computed separately, and
//   the reducer takes every trainable parameter exactly once;
// - 2 ranks ≡ 1 process with accumulate_steps 2: losses (1e-6 relative), per-stage gradient
//   norms (1e-5), weights after 3 Adam steps (1e-6), and the two ranks' weights bit-identical;
// - evaluation sharded over 3 ranks and gathered equals the 1-process evaluation, every sample
//   once and in the data set's order;
// - SyncBatchNorm: 2 ranks with train.sync_bn ≡ 1 process with the whole batch (1e-5: losses,
//   stage norms, weights after 3 Adam steps, BN running statistics, num_batches_tracked) on
//   oneDNN, on the reference, and with a checkpointed stage; without sync the same comparison
//   fails; one rank with sync is bit-identical to none;
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

#include "core/errors.h"
#include "engine/gradient_reducer.h"
#include "engine/init.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "engine/optimizer.h"
#include "engine/resnet.h"
#include "engine/trainer.h"
#include "io/dataset.h"
#include "io/demo_data.h"
#include "io/loader.h"
#include "job/data_parallel_ranks.h"
#include "plugins/backends.h"
#include "tests/distributed/thread_communicator.h"
#include "tests/distributed/training_fixtures.h"

namespace cxr {
namespace {

using namespace test;  // training_fixtures.h

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

// SyncBatchNorm (train.sync_bn): 2 thread ranks of 4 rows each against one process with the
// whole batch of 8 (no accumulation, no communicator), 3 Adam steps. The worst relative
// deviations of what the issue asks to match. Running statistics on their own scales: a mean's
// deviation in units of the channel's σ (a running mean near 0 is the average of activations
// of size ~σ, whose float rounding differs between 4 + 4 and 8 rows), a variance's relative.
struct WholeBatchDeviation {
  double loss = 0, stage_norm = 0, weights = 0, running_mean = 0, running_var = 0;
  bool counters_equal = true;
};

// Adam's ε is 1 here, not torch's 1e-8. Adam's update lr·m̂/(√v̂ + ε) divides by the gradient's
// own size: with ε = 1e-8 it is ±lr for any |g| ≫ ε, so an element whose gradient is zero up to
// float rounding moves by +lr in one run and −lr in the other whatever BN does (4 + 4 rows are
// never summed in the order of 8). Measured with ε = 1e-8: step-0 stage norms equal to 1e-6,
// single conv weights 2e-3 apart after one step; with ε = 1e-3 still 1.6e-3 (oneDNN's float
// gradients of the whole batch differ from the synced ones by ~1e-5 of each tensor's largest,
// the reference's by ~1e-7). With ε = 1 the update is a smooth function of g (slope ≤ lr), and
// the weights measure the BN's math rather than the sign of rounding noise.
constexpr double kSmoothAdamEps = 1.0;

WholeBatchDeviation against_whole_batch(const std::string& backend, bool sync_bn,
                                        const std::vector<std::string>& checkpointed = {}) {
  const Batches data(3, kBatch, 5);
  Model single(kBatch, backend, checkpointed, kSmoothAdamEps);
  Batches all = data;
  const RunResult one = train(single, all, 1, nullptr);
  std::vector<RunResult> ranks(2);
  test::run_on_ranks(2, [&](int r, Communicator& comm) {
    Model m(kBatch / 2, backend, checkpointed, kSmoothAdamEps);
    Batches shard = data.shard(r, 2);
    ranks[static_cast<size_t>(r)] = train(m, shard, 1, &comm, sync_bn);
  });
  EXPECT_EQ(one.steps.size(), 3u);
  EXPECT_GT(max_relative(one.weights, Model(kBatch, backend).all(false)), 1e-4);  // the steps did something
  WholeBatchDeviation d;
  for (const RunResult& rank : ranks) {
    if (rank.steps.size() != one.steps.size()) {
      ADD_FAILURE() << "a rank ran " << rank.steps.size() << " steps";
      return d;
    }
    for (size_t s = 0; s < one.steps.size(); ++s) {
      d.loss = std::max(d.loss, std::fabs(rank.steps[s].loss - one.steps[s].loss) / std::fabs(one.steps[s].loss));
      for (const auto& [stage, norm] : one.steps[s].grad_norm.stage)
        d.stage_norm = std::max(d.stage_norm, std::fabs(rank.steps[s].grad_norm.stage.at(stage) - norm) / norm);
    }
    d.weights = std::max(d.weights, max_relative(rank.weights, one.weights));
    for (size_t i = 0; i < one.running_mean.size(); ++i) {
      const double sigma = std::sqrt(static_cast<double>(one.running_var[i]));
      d.running_mean = std::max(d.running_mean, std::fabs(static_cast<double>(rank.running_mean[i]) - one.running_mean[i]) / sigma);
      const double var = one.running_var[i];
      d.running_var = std::max(d.running_var, std::fabs(static_cast<double>(rank.running_var[i]) - var) / var);
    }
    d.counters_equal = d.counters_equal && rank.counters == one.counters;
  }
  EXPECT_FALSE(one.counters.empty());
  for (int64_t c : one.counters) EXPECT_EQ(c, 3);
  return d;
}

// `weights`: the tolerance on the weights after 3 steps. 1e-5 on the reference (double math);
// oneDNN's float kernels differ from themselves by more than that between 8 rows and 4 + 4
// whatever BN does: measured, one oneDNN process against one reference process on the same
// whole batch, weights 2.4e-5 apart after these 3 steps, and the synced oneDNN ranks 2.0e-5
// from that reference process (2.1e-5 from the oneDNN one). Everything else: 1e-5 on both.
void expect_whole_batch(const WholeBatchDeviation& d, double weights) {
  EXPECT_LE(d.loss, 1e-5);
  EXPECT_LE(d.stage_norm, 1e-5);
  EXPECT_LE(d.weights, weights);
  // BN running statistics: the global mean, the unbiased variance of the global count.
  EXPECT_LE(d.running_mean, 1e-5);
  EXPECT_LE(d.running_var, 1e-5);
  EXPECT_TRUE(d.counters_equal);
}

constexpr double kOnednnWeights = 5e-5, kReferenceWeights = 1e-5;

TEST(SyncBatchNorm, TwoRanksEqualOneProcessWithTheWholeBatchOnOnednn) {
  expect_whole_batch(against_whole_batch("cpu", true), kOnednnWeights);
}

TEST(SyncBatchNorm, TwoRanksEqualOneProcessWithTheWholeBatchOnTheReference) {
  expect_whole_batch(against_whole_batch("reference", true), kReferenceWeights);
}

// A checkpointed stage replays its BNs in backward: they reuse the global statistics.
TEST(SyncBatchNorm, TwoRanksEqualOneProcessWithACheckpointedStage) {
  expect_whole_batch(against_whole_batch("cpu", true, {"layer2"}), kOnednnWeights);
}

// The comparison can fail: without sync each rank normalises its 4 rows alone.
TEST(SyncBatchNorm, WithoutSyncTheSameComparisonDiffers) {
  const WholeBatchDeviation d = against_whole_batch("cpu", false);
  EXPECT_GT(d.loss, 1e-3);
  EXPECT_GT(d.stage_norm, 1e-3);
  EXPECT_GT(d.weights, kOnednnWeights);
  EXPECT_GT(d.running_mean, 1e-3);
  EXPECT_GT(d.running_var, 1e-3);
}

// One rank: sync_bn changes nothing (no duplicate communicator, the same bits).
TEST(SyncBatchNorm, OneRankIsBitIdenticalToNoSync) {
  const Batches data(2, kBatch, 5);
  Model a(kBatch), b(kBatch);
  Batches da = data, db = data;
  SingleProcess one;
  const RunResult plain = train(a, da, 1, nullptr), synced = train(b, db, 1, &one, true);
  EXPECT_TRUE(plain.state == synced.state);
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

// A GPU run's ranks each take their node-local rank's GPU through CUDA_VISIBLE_DEVICES
// (job/data_parallel_ranks.h); CPU backends and one rank leave it alone.
// A rank's place in a run, for pin_local_gpu: its numbers only, no collective is made.
struct Placement final : Communicator {
  Placement(int rank, int size, int local_rank, int local_size)
      : rank_(rank), size_(size), local_rank_(local_rank), local_size_(local_size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string describe() const override { return "fake"; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  std::vector<std::string> allgather(const std::string& m) override { return {m}; }
  void barrier() override {}
  int rank_, size_, local_rank_, local_size_;
};

TEST(GpuRanks, EachRankTakesItsLocalRanksGpu) {
  Placement local(3, 4, 1, 2);
  const char* before = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string saved = before ? before : "";
  auto visible = [] { const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); return std::string(v ? v : "(unset)"); };
  unsetenv("CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(pin_local_gpu(local, "cpu"), "");
  EXPECT_EQ(visible(), "(unset)");
  SingleProcess one;
  EXPECT_EQ(pin_local_gpu(one, "cuda"), "");
  EXPECT_EQ(visible(), "(unset)");
  EXPECT_EQ(pin_local_gpu(local, "cuda"), "rank 3 (local rank 1) uses GPU 1");
  EXPECT_EQ(visible(), "1");
  setenv("CUDA_VISIBLE_DEVICES", "4, 6", 1);  // the node's GPUs given to the job: the second
  pin_local_gpu(local, "auto");
  EXPECT_EQ(visible(), "6");
  pin_local_gpu(local, "cuda");  // one device: pinned already, left alone
  EXPECT_EQ(visible(), "6");
  setenv("CUDA_VISIBLE_DEVICES", "0,", 1);  // fewer GPUs listed than ranks on the node
  EXPECT_EQ(pin_local_gpu(local, "cuda"), "");  // "0," is one device
  setenv("CUDA_VISIBLE_DEVICES", "", 1);
  EXPECT_EQ(pin_local_gpu(local, "cudnn"), "rank 3 (local rank 1) uses GPU 1");
  if (before) setenv("CUDA_VISIBLE_DEVICES", saved.c_str(), 1); else unsetenv("CUDA_VISIBLE_DEVICES");
}

TEST(GpuRanks, MoreRanksThanListedGpusIsAUsageError) {
  Placement third(2, 3, 2, 3);
  const char* before = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string saved = before ? before : "";
  setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
  try {
    pin_local_gpu(third, "cuda");
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("lists 2 GPUs, but this node runs 3 ranks"), std::string::npos) << e.what();
  }
  EXPECT_STREQ(std::getenv("CUDA_VISIBLE_DEVICES"), "0,1");
  if (before) setenv("CUDA_VISIBLE_DEVICES", saved.c_str(), 1); else unsetenv("CUDA_VISIBLE_DEVICES");
}

}  // namespace
}  // namespace cxr
