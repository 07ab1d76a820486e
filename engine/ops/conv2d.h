// conv2d: 2-D convolution, square kernel, symmetric zero padding, no dilation, no groups.
// Input x [N, Cin, H, W]; weight [Cout, Cin, k, k] (torchvision order); optional bias [Cout].
// Output [N, Cout, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1].
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct Conv2dParams final : OpParams {
  int64_t in_channels = 0, out_channels = 0, kernel = 1, stride = 1, padding = 0;
  bool bias = false;

  std::string op() const override { return "conv2d"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<Conv2dParams>(*this); }
  std::string str() const override {
    return "conv2d(" + std::to_string(in_channels) + "->" + std::to_string(out_channels) + ", k" +
           std::to_string(kernel) + " s" + std::to_string(stride) + " p" + std::to_string(padding) +
           ")";
  }
  Shape weight_shape() const { return {out_channels, in_channels, kernel, kernel}; }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(str(), in, 1);
    expect_rank(str(), in[0], 4, "input");
    if (in[0][1] != in_channels)
      throw GraphError(str() + ": input has " + std::to_string(in[0][1]) + " channels");
    const int64_t oh = (in[0][2] + 2 * padding - kernel) / stride + 1;
    const int64_t ow = (in[0][3] + 2 * padding - kernel) / stride + 1;
    if (oh <= 0 || ow <= 0) throw GraphError(str() + ": input " + to_string(in[0]) + " too small");
    return {in[0][0], out_channels, oh, ow};
  }
};

}  // namespace cxr::ops
