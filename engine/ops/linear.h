// linear: y = x Wᵀ + b. x [N, in]; "weight" [out, in]; "bias" [out] (optional). y [N, out].
// Plain layouts in and out.
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct LinearParams final : OpParams {
  int64_t in_features = 0, out_features = 0;
  bool bias = true;

  std::string op() const override { return "linear"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<LinearParams>(*this); }
  std::string str() const override {
    return "linear(" + std::to_string(in_features) + "->" + std::to_string(out_features) + ")";
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(str(), in, 1);
    expect_rank(str(), in[0], 2, "input");
    if (in[0][1] != in_features)
      throw GraphError(str() + ": input has " + std::to_string(in[0][1]) + " features");
    return {in[0][0], out_features};
  }
};

}  // namespace cxr::ops
