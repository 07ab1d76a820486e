// sigmoid forward and backward: one-pass grid-stride kernels (sigmoid_kernels.h).
#include "plugins/cudnn/kernel_common.cuh"
#include "plugins/cudnn/sigmoid_kernels.h"

namespace cxr::gpu {
namespace {

__device__ __forceinline__ float logistic(float x) {
  const float e = expf(-fabsf(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

template <class T>
__global__ void sigmoid_kernel(const T* x, T* y, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(y, i, logistic(load(x, i)));
}

template <class T>
__global__ void sigmoid_backward_kernel(const T* y, const T* dy, T* dx, int64_t n) {
  CXR_GRID_STRIDE(i, n) {
    const float s = load(y, i);
    store(dx, i, load(dy, i) * s * (1.0f - s));
  }
}

}  // namespace

cudaError_t sigmoid_forward(const void* x, void* y, DType t, int64_t n, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    sigmoid_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y), n);
  });
}

cudaError_t sigmoid_backward(const void* y, const void* dy, void* dx, DType t, int64_t n, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    sigmoid_backward_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const T*>(y), static_cast<const T*>(dy),
                                                               static_cast<T*>(dx), n);
  });
}

}  // namespace cxr::gpu
