// Optimizer: SGD (momentum, dampening, nesterov), Adam and AdamW with PyTorch's semantics and
// defaults, over parameter groups per stage (core/stages.h; docs/recipe.md "optimizer"):
//   lr(stage, step) = lr · layer_decay^distance(stage) · stage_scale[stage] · schedule(step)
// with distance 0 for the head (last stage) up to 5 for conv1. Frozen stages are not updated
// (their parameters' `trainable` is cleared, so the network does not even compute their
// gradients). Weight decay skips BN scale/shift and biases unless decay_bn_and_bias.
// State (exp_avg, exp_avg_sq, momentum_buffer) is allocated once through the backend and can be
// exported and imported by name for checkpoints.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/schedule.h"
#include "engine/trainer.h"

namespace cxr {

struct OptimizerConfig {
  std::string name = "adam";  // sgd | adam | adamw
  double lr = 1e-4;
  double weight_decay = 0.0;
  double momentum = 0.9, dampening = 0.0;  // sgd
  bool nesterov = false;                   // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double layer_decay = 1.0;
  std::vector<std::string> freeze;               // stage names
  std::map<std::string, double> stage_scale;     // extra lr multiplier per stage
  bool decay_bn_and_bias = false;
};

class Optimizer final : public StepOptimizer {
 public:
  // `stages`: input side first (Graph::stages). UsageError for unknown names or stages.
  Optimizer(OptimizerConfig config, ScheduleConfig schedule, std::vector<Parameter*> params,
            Backend& backend, std::vector<std::string> stages);

  std::map<std::string, double> step(int64_t step) override;
  std::map<std::string, double> stage_lr(int64_t step) const;

  // Optimizer state by name ("<param>.exp_avg", ...) for checkpoints; `steps_done()` with it.
  std::vector<std::pair<std::string, Tensor*>> state();
  int64_t steps_done() const { return steps_done_; }
  void set_steps_done(int64_t n) { steps_done_ = n; }

 private:
  OptimizerConfig c_;
  ScheduleConfig schedule_;
  std::vector<Parameter*> params_;
  Backend& backend_;
  std::vector<std::string> stages_;
  std::vector<Tensor> first_, second_;  // exp_avg/momentum_buffer, exp_avg_sq
  int64_t steps_done_ = 0;
};

}  // namespace cxr
