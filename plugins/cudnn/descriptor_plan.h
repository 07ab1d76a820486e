// What the cuDNN layers ask of cuDNN, worked out on the host before any descriptor is set: the
// 4-D tensor description of a cxr descriptor, and a convolution's filter, padding, stride, math
// type and output. Pure functions (no device, no handle), so every shape and dtype of a network
// is testable on a machine without a GPU (tests/cudnn/descriptor_plan_test.cpp).
//
// Failure modes: what cuDNN cannot take is a GraphError that names the layer (`where`): a dtype
// other than f32/bf16/f16, a foreign layout, a tensor over cuDNN's 2^31 − 1 elements (its
// descriptors take int dimensions and derive int strides; PyTorch, too, leaves cuDNN for such
// tensors), a filter over that limit.
#pragma once
#include <cudnn.h>

#include <string>

#include "engine/tensor.h"
#include "plugins/cudnn/kernels.h"
#include "engine/ops/conv2d.h"

namespace cxr::gpu {

// cudnnSetTensor4dDescriptor's arguments.
struct TensorSpec {
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int n = 1, c = 1, h = 1, w = 1;
};
TensorSpec tensor_spec(const TensorDesc& desc, const std::string& where);

// Everything Conv2dCudnn::prepare sets: NHWC activations and a KRSC filter in the compute dtype,
// f32 accumulation, FMA math for f32 (never TF32: f32 parity with the reference) and tensor-op
// math otherwise.
struct ConvSpec {
  TensorSpec x, y;                   // the (converted) input and the output
  cudnnDataType_t filter_type = CUDNN_DATA_FLOAT;
  int k = 1, c = 1, r = 1, s = 1;    // filter [K, C, R, S], stored KRSC
  int pad = 0, stride = 1;
  cudnnMathType_t math = CUDNN_FMA_MATH;
  bool exact_f32 = true;             // only FMA/default-math algorithms are acceptable
};
ConvSpec conv_spec(const ops::Conv2dParams& p, const Shape& input, DType compute,
                   const std::string& where);

// The key under which the backend caches a convolution's chosen algorithm: the pass ("fwd",
// "bwd_data", "bwd_filter") and every argument of the search, so equal keys mean an equal search.
std::string conv_algo_key(const char* pass, const ConvSpec& spec);

}  // namespace cxr::gpu
