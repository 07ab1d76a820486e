// Trainer: the fine-tuning loop (issue "Fine-tuning"). Epochs of optimizer steps over a
// BatchSource, per-stage gradient norms, clipping, the optimizer step with its schedule,
// validation each epoch, checkpoints, early stopping, non-finite and signal handling, exact
// resume. It knows nothing of files: batches come from a BatchSource (io/ implements it) and
// records and checkpoints go to a RunSink (the run-directory writer implements it).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/communicator.h"
#include "engine/grad_stats.h"
#include "core/metrics.h"
#include "engine/network.h"
#include "engine/train_step.h"

namespace cxr {

// One batch in host memory, plain layout, owned by the source until the next call to next().
struct HostBatch {
  const float* images = nullptr;   // [n, C, H, W]
  const float* targets = nullptr;  // [n] class indices, or [n, K] multi-label targets
  int64_t n = 0;
  std::vector<std::string> ids;    // sample ids for predictions (relative paths), may be empty
  double wait_s = 0;               // time next() waited for the loader
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t batches_per_epoch() const = 0;
  // Deterministic order for (seed, epoch); `skip` batches are passed over (resume mid-epoch).
  virtual void start_epoch(int64_t epoch, int64_t skip) = 0;
  virtual bool next(HostBatch& batch) = 0;  // false at the end of the epoch
};

struct StepRecord {
  int64_t epoch = 0, step = 0;
  double loss = 0;
  std::map<std::string, double> lr;  // per stage
  GradNorms grad_norm;
  double images_per_s = 0, data_wait_s = 0;
};

struct EvalResult {
  double loss = 0;  // the loss op's value over all samples (after the temperature)
  ClassificationMetrics metrics;
  std::vector<std::vector<double>> probs;  // per sample
  std::vector<std::vector<double>> targets;
  std::vector<std::string> ids;
  std::vector<double> logits;  // [n·K], divided by the temperature (for calibration fits)
};

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0;
  std::optional<EvalResult> val;
  std::map<std::string, double> grad_norm_mean, grad_norm_last;
};

// Everything needed to continue a run exactly where it stopped.
struct TrainPosition {
  int64_t epoch = 0;       // epoch in progress
  int64_t batch = 0;       // batches of that epoch already done
  int64_t step = 0;        // optimizer steps done in total
  double best_auroc = -1;  // best validation AUROC so far
  int64_t epochs_without_improvement = 0;
  // Running sums of the epoch in progress, so a resumed epoch reports the same epoch record.
  double epoch_loss_sum = 0;
  std::map<std::string, double> epoch_grad_sum, epoch_grad_last;
};

class RunSink {
 public:
  virtual ~RunSink() = default;
  virtual void on_step(const StepRecord& record) = 0;
  virtual void on_epoch(const EpochRecord& record) = 0;
  // name: "last" or "best". Called with the network and optimizer in a consistent state.
  virtual void save_checkpoint(const std::string& name, const TrainPosition& position) = 0;
  // Where the newest complete "last" checkpoint is, for messages ("checkpoints/last.safetensors
  // (step 6)"); empty while there is none.
  virtual std::string last_checkpoint() const { return {}; }
  virtual void on_progress(int64_t /*epoch*/, int64_t /*batch*/, int64_t /*batches*/,
                           double /*loss*/, double /*images_per_s*/) {}
};

// What the optimizer must offer the trainer (engine/optimizer.h implements it).
class StepOptimizer {
 public:
  virtual ~StepOptimizer() = default;
  // Applies one update for optimizer step `step` (0-based) and returns the lr used per stage.
  virtual std::map<std::string, double> step(int64_t step) = 0;
};

struct TrainConfig {
  int64_t epochs = 5;
  int64_t max_steps = -1;          // -1: no limit
  int64_t checkpoint_every = 0;    // steps; 0: at the end of each epoch
  double grad_clip = 0;            // global-norm clipping; 0: off
  int64_t early_stopping = 0;      // patience in epochs; 0: off
  bool multi_label = false;
  std::vector<std::string> class_names;
  double temperature = 1.0;        // evaluate(): logits / T before probabilities and loss
  // Micro-batches per optimizer step (train.accumulate_steps): the network is prepared for
  // global batch / (ranks · K) samples, and each of the source's batches (this rank's share of
  // a global batch) is run as K of them, their gradients summed (engine/gradient_reducer.h).
  int64_t accumulate_steps = 1;
  // The ranks of a data-parallel run; null: this process alone. Gradients, the loss and the
  // stop flag are reduced over them each step, BN running statistics are rank 0's (as PyTorch
  // DDP's broadcast_buffers), and evaluate() gathers every rank's shard.
  Communicator* comm = nullptr;
  // train.sync_bn: training BN statistics over the N ranks' concurrent micro-batches
  // (SyncBatchNorm, Context::batch_norm_group, on a duplicate of `comm`). One rank: no effect.
  bool sync_batch_norm = false;
};

class Trainer {
 public:
  Trainer(Network& net, TrainStep& step, StepOptimizer& optimizer, TrainConfig config);

  // Runs from `start` until done; returns the final position. Throws RuntimeFailure on a
  // non-finite loss or gradient (after saving "last" with the weights before that step) and
  // Interrupted when `stop` becomes true (after saving "last").
  TrainPosition run(BatchSource& train, BatchSource* val, RunSink& sink, TrainPosition start,
                    const std::atomic<bool>& stop);

  // Eval-mode pass over a source: loss (the loss op's, over all samples), probabilities and
  // metrics. RuntimeFailure on a non-finite output or loss. With a communicator the source is
  // this rank's shard (io/loader.h): every rank's rows are gathered back into the global order
  // of the data set, so every rank returns the 1-process result.
  EvalResult evaluate(BatchSource& source);

  // Rank 0's parameters and buffers on every rank (the start of a data-parallel run).
  void broadcast_state(bool buffers_only);

 private:
  void load_rows(const float* images, const float* targets, int64_t n);
  Communicator& comm() { return config_.comm ? *config_.comm : single_; }

  Network& net_;
  TrainStep& step_;
  StepOptimizer& optimizer_;
  TrainConfig config_;
  Shape input_shape_;
  std::vector<float> pad_images_, pad_targets_;  // full-size batch buffers for short batches
  SingleProcess single_;
};

}  // namespace cxr
