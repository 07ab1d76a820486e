// TrainStep: one network plus its loss on one backend — forward, loss, backward — with every
// buffer (targets, loss, dlogits) allocated once in prepare(). The trainer and the benchmark
// drive it; the optimizer is applied separately.
#pragma once
#include <memory>
#include <vector>

#include "engine/layer_registry.h"
#include "engine/network.h"

namespace cxr {

class TrainStep {
 public:
  // `loss` is a loss op (softmax_cross_entropy, bce_with_logits) created on the network's backend.
  TrainStep(Network& net, const LayerRegistry& registry, const OpParams& loss);

  // input_shape [N, C, H, W]; target_shape [N] for cross-entropy, [N, K] for BCE.
  void prepare(const Shape& input_shape, const Shape& target_shape, bool training);

  Tensor& input() { return net_.input(); }  // plain, backend memory
  Tensor& targets() { return targets_; }    // plain, backend memory

  // Forward, loss and (when training) backward; returns the batch-mean loss. Parameter
  // gradients are filled when ctx.training.
  double run(Context& ctx);
  // The logits of the last run() (plain [N, K], backend memory).
  const Tensor& logits() const { return *logits_; }

  // The loss op's value (the same op and parameters as run(): class weights, label smoothing,
  // pos_weight, masks) on `n` rows of host logits [n, K] and targets ([n] class indices or
  // [n, K]), in one evaluation over all rows: a data set's loss, whatever its batching.
  double loss_of(const std::vector<float>& logits, const std::vector<float>& targets, int64_t n);

 private:
  Network& net_;
  const LayerRegistry& registry_;
  std::unique_ptr<OpParams> loss_params_;
  std::unique_ptr<Layer> loss_;
  std::unique_ptr<Layer> set_loss_;  // loss_of's instance, prepared for set_rows_ rows
  int64_t set_rows_ = -1;
  Tensor set_logits_, set_targets_, set_value_;
  Tensor targets_, loss_value_, dloss_, dlogits_;
  const Tensor* logits_ = nullptr;
  bool training_ = false;
};

}  // namespace cxr
