// softmax_cross_entropy: torch.nn.functional.cross_entropy(logits, target, weight,
// label_smoothing, reduction="mean").
// Inputs: logits [N, K] plain; target [N] plain, class indices stored as floats (0..K-1).
// Output: [1], the loss. With class weights the mean divides by Σ w[target] (PyTorch).
// Backward: d logits (dx[1] must be null: targets are not differentiable).
#pragma once
#include <vector>

#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct SoftmaxCrossEntropyParams final : OpParams {
  std::vector<float> class_weights;  // empty = all 1
  double label_smoothing = 0.0;

  std::string op() const override { return "softmax_cross_entropy"; }
  std::unique_ptr<OpParams> clone() const override {
    return std::make_unique<SoftmaxCrossEntropyParams>(*this);
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 2);
    expect_rank(op(), in[0], 2, "logits");
    if (in[1] != Shape{in[0][0]})
      throw GraphError(op() + ": target must be [N] for logits " + to_string(in[0]));
    if (!class_weights.empty() && static_cast<int64_t>(class_weights.size()) != in[0][1])
      throw GraphError(op() + ": class_weights has " + std::to_string(class_weights.size()) +
                       " entries for " + std::to_string(in[0][1]) + " classes");
    return {1};
  }
};

}  // namespace cxr::ops
