// add: residual sum y = a + b of two tensors of one shape; `fuse_relu`: y = max(0, a + b).
// The inputs may arrive in different layouts; the output takes the layout of `a`.
// Backward: da = db = dy (masked by y > 0 when fused), each in its input's layout.
// The network also uses this op to sum gradients where a tensor has several consumers.
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct AddParams final : OpParams {
  bool fuse_relu = false;

  std::string op() const override { return "add"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<AddParams>(*this); }
  std::string str() const override { return fuse_relu ? "add(relu)" : "add"; }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(str(), in, 2);
    if (in[0] != in[1])
      throw GraphError("add: shapes differ: " + to_string(in[0]) + " vs " + to_string(in[1]));
    return in[0];
  }
};

}  // namespace cxr::ops
