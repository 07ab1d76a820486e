// maxpool2d: max pooling over k×k windows with stride and implicit -inf padding ([N,C,H,W]).
// Output size floor((H + 2p - k)/s) + 1 (ceil_mode=False). Backward routes dy to the first
// maximum of each window in row-major order (PyTorch's choice on ties).
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct MaxPool2dParams final : OpParams {
  int64_t kernel = 3, stride = 2, padding = 1;

  std::string op() const override { return "maxpool2d"; }
  std::unique_ptr<OpParams> clone() const override {
    return std::make_unique<MaxPool2dParams>(*this);
  }
  std::string str() const override {
    return "maxpool2d(k" + std::to_string(kernel) + " s" + std::to_string(stride) + " p" +
           std::to_string(padding) + ")";
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(str(), in, 1);
    expect_rank(str(), in[0], 4, "input");
    if (2 * padding > kernel) throw GraphError(str() + ": padding must be at most kernel/2");
    const int64_t oh = (in[0][2] + 2 * padding - kernel) / stride + 1;
    const int64_t ow = (in[0][3] + 2 * padding - kernel) / stride + 1;
    if (oh <= 0 || ow <= 0) throw GraphError(str() + ": input " + to_string(in[0]) + " too small");
    return {in[0][0], in[0][1], oh, ow};
  }
};

}  // namespace cxr::ops
