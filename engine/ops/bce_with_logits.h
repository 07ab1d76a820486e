// bce_with_logits: torch.nn.functional.binary_cross_entropy_with_logits(logits, target,
// pos_weight, reduction="mean") for multi-label classification.
// Inputs: logits [N, K], targets [N, K], both plain. Output [1].
// Masking: a target < 0 (an ignored label, io/dataset.h kIgnoredTarget) adds nothing to the loss
// and gets a zero gradient; a target ≥ 0 is used as given (0/1 labels, soft targets between).
// The loss is the mean over the M unmasked entries, Σ ℓ / M (M = N·K without masks: PyTorch's
// reduction="mean"), and each unmasked gradient is dy · (dℓ/dz) / M. M = 0 (every target
// masked) gives loss 0 and zero gradients, not 0/0. Every backend implements exactly this (the parity sweep has masked cases).
#pragma once
#include <vector>

#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct BceWithLogitsParams final : OpParams {
  std::vector<float> pos_weight;  // empty = all 1

  std::string op() const override { return "bce_with_logits"; }
  std::unique_ptr<OpParams> clone() const override {
    return std::make_unique<BceWithLogitsParams>(*this);
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 2);
    expect_rank(op(), in[0], 2, "logits");
    if (in[1] != in[0])
      throw GraphError(op() + ": targets " + to_string(in[1]) + " must match logits " +
                       to_string(in[0]));
    if (!pos_weight.empty() && static_cast<int64_t>(pos_weight.size()) != in[0][1])
      throw GraphError(op() + ": pos_weight size differs from the number of labels");
    return {1};
  }
};

}  // namespace cxr::ops
