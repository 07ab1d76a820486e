// The sigmoid kernels of the cuDNN backend (sigmoid_kernels.cu), queued on `s`, returning the
// launch status. Elementwise over n elements of one type (f32, bf16, f16), layout-independent;
// arithmetic in float, stored rounded to nearest even. In place is allowed.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor.h"

namespace cxr::gpu {

// y = 1 / (1 + e^−x), from e^−|x| (no overflow in either tail).
cudaError_t sigmoid_forward(const void* x, void* y, DType t, int64_t n, cudaStream_t s);
// dx = dy · y · (1 − y), where y is the forward output as stored.
cudaError_t sigmoid_backward(const void* y, const void* dy, void* dx, DType t, int64_t n, cudaStream_t s);

}  // namespace cxr::gpu
