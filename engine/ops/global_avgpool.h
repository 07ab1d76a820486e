// global_avgpool: mean over H and W, [N, C, H, W] -> [N, C, 1, 1] (AdaptiveAvgPool2d((1, 1))).
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct GlobalAvgPoolParams final : OpParams {
  std::string op() const override { return "global_avgpool"; }
  std::unique_ptr<OpParams> clone() const override {
    return std::make_unique<GlobalAvgPoolParams>(*this);
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 1);
    expect_rank(op(), in[0], 4, "input");
    return {in[0][0], in[0][1], 1, 1};
  }
};

}  // namespace cxr::ops
