// relu: y = max(0, x), any shape. Gradient at x == 0 is 0 (as PyTorch).
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct ReluParams final : OpParams {
  std::string op() const override { return "relu"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<ReluParams>(*this); }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 1);
    return in[0];
  }
};

}  // namespace cxr::ops
