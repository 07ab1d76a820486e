// sigmoid: y = 1 / (1 + exp(−x)), any shape (torch.sigmoid). Backward dx = dy · y · (1 − y),
// from the output, so implementations need not keep the input. The output keeps the input's
// descriptor.
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct SigmoidParams final : OpParams {
  std::string op() const override { return "sigmoid"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<SigmoidParams>(*this); }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 1);
    return in[0];
  }
};

}  // namespace cxr::ops
