// bce_with_logits: torch.nn.functional.binary_cross_entropy_with_logits(logits, target,
// pos_weight, reduction="mean") for multi-label classification.
// Inputs: logits [N, K], targets [N, K] in [0, 1], both plain. Output [1]: mean over N·K.
#pragma once
#include <vector>

#include "engine/layer.h"
#include "plugins/ops/op_util.h"

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
