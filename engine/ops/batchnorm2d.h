// batchnorm2d: per-channel batch normalisation of [N, C, H, W], exactly as torch.nn.BatchNorm2d.
// Training: normalise with the biased batch variance; update running_mean/var with `momentum`
// using the *unbiased* batch variance; num_batches_tracked += 1. Eval: use running stats.
// Parameters "weight" (γ, init 1) and "bias" (β, init 0); buffers "running_mean" (0),
// "running_var" (1), "num_batches_tracked" (I64, host). `fuse_relu`: y = max(0, bn(x)), with the
// matching backward (a fusion, not a different op: the reference implements it too).
#pragma once
#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::ops {

struct BatchNorm2dParams final : OpParams {
  int64_t channels = 0;
  double eps = 1e-5, momentum = 0.1;
  bool fuse_relu = false;

  std::string op() const override { return "batchnorm2d"; }
  std::unique_ptr<OpParams> clone() const override {
    return std::make_unique<BatchNorm2dParams>(*this);
  }
  std::string str() const override {
    return "batchnorm2d(" + std::to_string(channels) + (fuse_relu ? ", relu)" : ")");
  }
  Shape output_shape(std::span<const Shape> in) const {
    expect_inputs(str(), in, 1);
    expect_rank(str(), in[0], 4, "input");
    if (in[0][1] != channels)
      throw GraphError(str() + ": input has " + std::to_string(in[0][1]) + " channels");
    return in[0];
  }
};

// The parameters and buffers every implementation owns, initialised as PyTorch does: weight 1,
// bias 0, running_mean 0, running_var 1, num_batches_tracked 0 (I64, host memory).
void create_batchnorm_state(const BatchNorm2dParams& p, Backend& backend, std::vector<Parameter>& parameters,
                            std::vector<Buffer>& buffers);

}  // namespace cxr::ops
