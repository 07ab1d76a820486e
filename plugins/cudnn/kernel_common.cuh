// Device helpers shared by the .cu files: launch geometry, the DType → C++ type dispatch and the
// block-wide sum. The per-element arithmetic lives in kernel_math.h (host-testable).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "plugins/cudnn/kernel_math.h"

namespace cxr::gpu {

constexpr int kThreads = 256;
static_assert(kThreads == kSumThreads, "block_sum and tree_sum fold the same lanes");

// Grid for a grid-stride loop over n elements: enough blocks to fill an H100 several times over,
// never more than needed.
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(b, 8192)));
}

#define CXR_GRID_STRIDE(i, n)                                                            \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Calls f(T{}) with T the C++ type of `t` (f32, f16, bf16); I64 is never an activation type.
template <class F>
cudaError_t dispatch(DType t, F&& f) {
  switch (t) {
    case DType::F32:
      f(float{});
      break;
    case DType::F16:
      f(__half{});
      break;
    case DType::BF16:
      f(__nv_bfloat16{});
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

// Block-wide sum of one double per thread (blockDim.x == kThreads), returned to every thread:
// the pairwise order of tree_sum() in kernel_math.h, so it is fixed by the block size alone.
__device__ __forceinline__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  const double out = shared[0];
  __syncthreads();
  return out;
}

}  // namespace cxr::gpu
