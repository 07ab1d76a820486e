// flatten: [N, d1, d2, ...] -> [N, d1*d2*...] (torch.flatten(x, 1)). Output is always plain.
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct FlattenParams final : OpParams {
  std::string op() const override { return "flatten"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<FlattenParams>(*this); }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(op(), in, 1);
    if (in[0].size() < 2) throw GraphError("flatten: input must have rank >= 2");
    int64_t rest = 1;
    for (size_t i = 1; i < in[0].size(); ++i) rest *= in[0][i];
    return {in[0][0], rest};
  }
};

}  // namespace cxr::ops
