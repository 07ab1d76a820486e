// The cuDNN backend's own CUDA kernels, as host-callable launchers (implemented in the .cu files
// of this folder). Everything is queued on the given stream and nothing synchronises; each
// launcher returns the launch status (cudaGetLastError) for the caller to check with the layer's
// name and shapes (cudnn_util.h).
//
// Tensors are 4-D [N, C, H, W] logical shapes stored as NCHW (row-major, the plain layout) or
// NHWC (the backend's activation layout); element types f32, bf16 or f16 (`DType`). Reductions
// accumulate in double; bf16/f16 values are converted to float for arithmetic and rounded to
// nearest even on store.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor.h"

// Host-and-device members (this header is also read by nvcc).
#ifdef __CUDACC__
#define CXR_HOST_DEVICE __host__ __device__
#else
#define CXR_HOST_DEVICE
#endif

namespace cxr::gpu {

enum class Fmt { Nchw, Nhwc };

struct Dims {
  int64_t n = 1, c = 1, h = 1, w = 1;
  CXR_HOST_DEVICE int64_t count() const { return n * c * h * w; }
};

// dst = src with another layout and/or element type (the same logical [N, C, H, W] tensor).
// NCHW → NCHW with equal types is a plain copy. Rank-2 plain tensors are Dims{N, K, 1, 1}.
cudaError_t convert(const void* src, DType src_type, Fmt src_fmt, void* dst, DType dst_type,
                    Fmt dst_fmt, Dims d, cudaStream_t s);

// Elementwise over `n` elements of one type; layout-independent. In place is allowed.
cudaError_t relu_forward(const void* x, void* y, DType t, int64_t n, cudaStream_t s);
// dx = ref > 0 ? dy : 0, where `ref` is the ReLU's input or output (equivalent masks).
cudaError_t relu_backward(const void* ref, const void* dy, void* dx, DType t, int64_t n,
                          cudaStream_t s);
// y = a + b (then the ReLU when `relu`); y may alias a or b. Every ReLU here keeps NaN (and −0)
// as the reference does: relu(v) = v < 0 ? 0 : v (kernel_math.h).
cudaError_t add_forward(const void* a, const void* b, void* y, bool relu, DType t, int64_t n,
                        cudaStream_t s);

// Batch norm with saved per-channel f32 statistics (cuDNN's saved mean and inverse standard
// deviation) and the f32 scale/shift, over x [N, C, H, W] in format f:
// apply: y = γ·(x − mean)·inv_std + β (then ReLU keeping NaN); y may alias x.
// relu_grad: g = dy where that output, as stored in t, is > 0, else 0.
struct BatchNormStats {
  const float *mean, *inv_std, *gamma, *beta;
};
cudaError_t batchnorm_apply(const void* x, void* y, const BatchNormStats& st, bool fuse_relu,
                            DType t, Fmt f, Dims d, cudaStream_t s);
cudaError_t batchnorm_relu_grad(const void* x, const void* dy, void* g, const BatchNormStats& st,
                                DType t, Fmt f, Dims d, cudaStream_t s);

// Over a row-major [rows, c] view (NHWC activations, [N, K] matrices), f32 per-column vectors:
// y[r, k] += bias[k];  out[k] = Σ_r x[r, k]. The sum runs one thread per column: meant for
// linear heads and biased convolutions in tests, not for large activations.
cudaError_t bias_add(void* y, DType t, const float* bias, int64_t rows, int64_t c, cudaStream_t s);
cudaError_t column_sum(const void* x, DType t, float* out, int64_t rows, int64_t c, cudaStream_t s);

// Max pooling k×k, stride, implicit -inf padding, output [N, C, oh, ow] in the input's layout.
// Forward stores, per output element, the input's spatial index h·W + w of the first maximum in
// row-major window order (PyTorch's tie rule; NaN wins); backward gathers dy into dx through it
// (deterministic, no atomics), so neither x nor y is needed again.
struct PoolGeometry {
  int64_t kernel = 3, stride = 2, padding = 1, oh = 1, ow = 1;
};
cudaError_t maxpool_forward(const void* x, void* y, int32_t* argmax, DType t, Fmt f, Dims in,
                            PoolGeometry g, cudaStream_t s);
cudaError_t maxpool_backward(const void* dy, const int32_t* argmax, void* dx, DType t, Fmt f,
                             Dims in, PoolGeometry g, cudaStream_t s);

// Mean over H×W: x [N, C, H, W] → y [N, C, 1, 1] (both in format f: for 1×1 spatial NCHW and
// NHWC coincide); backward spreads dy / (H·W).
cudaError_t avgpool_forward(const void* x, void* y, DType t, Fmt f, Dims in, cudaStream_t s);
cudaError_t avgpool_backward(const void* dy, void* dx, DType t, Fmt f, Dims in, cudaStream_t s);

// Losses on plain f32 [N, K] logits (one thread block: N·K is a batch of class scores).
// Semantics of plugins/reference/kernels.h. With `loss` non-null: writes the mean loss to
// loss[0]; with `dz` non-null: dz = dL/dz · dloss[0] (dloss read on the device). A target that is
// not a class index 0..K-1 makes the loss and the gradient NaN (reported by the trainer as a
// non-finite loss: the device cannot throw).
cudaError_t cross_entropy(const float* z, const float* target, const float* class_weight,
                          double smoothing, int64_t n, int64_t k, float* loss, const float* dloss,
                          float* dz, cudaStream_t s);
cudaError_t bce_with_logits(const float* z, const float* target, const float* pos_weight, int64_t n,
                            int64_t k, float* loss, const float* dloss, float* dz, cudaStream_t s);

// Optimizer services over f32 vectors. `bad` (one int) must be zeroed by the caller; the launcher
// ORs into it.
// sum_squares: Σ x² of each of `count` segments (device arrays of pointers and lengths) into
// out[0..count) (device doubles), in one launch pair and a fixed order (kernel_math.h): the same
// bits on every run. `partials` is device scratch of count·kSumBlocks doubles.
cudaError_t sum_squares(const float* const* segments, const int64_t* lengths, int count,
                        double* partials, double* out, cudaStream_t s);
cudaError_t count_nonfinite(const float* x, int64_t n, int* bad, cudaStream_t s);
cudaError_t scale(float* x, int64_t n, float factor, cudaStream_t s);

// torch.optim.Adam/AdamW step with the constants precomputed on the host exactly as
// HostBackend::adam_update does (step_size = lr / bc1, bc2_sqrt = sqrt(bc2), decay = 1 − lr·wd).
struct AdamConstants {
  float step_size, bc2_sqrt, beta1, beta2, eps, weight_decay, decay;
  bool decoupled;
};
cudaError_t adam_update(float* p, const float* g, float* m, float* v, int64_t n, AdamConstants c,
                        cudaStream_t s);
// torch.optim.SGD; `buf` null when momentum is 0.
struct SgdConstants {
  float lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};
cudaError_t sgd_update(float* p, const float* g, float* buf, int64_t n, SgdConstants c,
                       cudaStream_t s);

}  // namespace cxr::gpu
