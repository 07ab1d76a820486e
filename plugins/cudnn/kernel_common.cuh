// Device helpers shared by the .cu files: element types, float conversion, launch geometry and
// the DType → C++ type dispatch.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "plugins/cudnn/kernels.h"

namespace cxr::gpu {

template <class T>
__device__ __forceinline__ float load(const T* p, int64_t i);
template <>
__device__ __forceinline__ float load<float>(const float* p, int64_t i) {
  return p[i];
}
template <>
__device__ __forceinline__ float load<__half>(const __half* p, int64_t i) {
  return __half2float(p[i]);
}
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}

template <class T>
__device__ __forceinline__ void store(T* p, int64_t i, float v);
template <>
__device__ __forceinline__ void store<float>(float* p, int64_t i, float v) {
  p[i] = v;
}
template <>
__device__ __forceinline__ void store<__half>(__half* p, int64_t i, float v) {
  p[i] = __float2half_rn(v);
}
template <>
__device__ __forceinline__ void store<__nv_bfloat16>(__nv_bfloat16* p, int64_t i, float v) {
  p[i] = __float2bfloat16_rn(v);
}

constexpr int kThreads = 256;

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

// Offset of logical (n, c, h, w) in format f.
__device__ __forceinline__ int64_t offset(Fmt f, const Dims& d, int64_t n, int64_t c, int64_t h,
                                          int64_t w) {
  return f == Fmt::Nchw ? ((n * d.c + c) * d.h + h) * d.w + w : ((n * d.h + h) * d.w + w) * d.c + c;
}

// Block-wide sum of one double per thread (blockDim.x == kThreads), returned to every thread.
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
