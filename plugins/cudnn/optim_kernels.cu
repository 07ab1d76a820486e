// Optimizer services over f32 parameter/gradient vectors. Compiled with --fmad=false (see
// CMakeLists.txt) so every product and sum rounds exactly as HostBackend's float loops do.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

__global__ void sum_squares_kernel(const float* x, int64_t n, double* acc) {
  __shared__ double shared[kThreads];
  double s = 0.0;
  CXR_GRID_STRIDE(i, n) {
    const double v = x[i];
    s += v * v;
  }
  s = block_sum(s, shared);
  if (threadIdx.x == 0) atomicAdd(acc, s);
}

__global__ void nonfinite_kernel(const float* x, int64_t n, int* bad) {
  int local = 0;
  CXR_GRID_STRIDE(i, n) local |= !isfinite(x[i]);
  if (local) atomicOr(bad, 1);
}

__global__ void scale_kernel(float* x, int64_t n, float f) { CXR_GRID_STRIDE(i, n) x[i] *= f; }

// The statement order of HostBackend::adam_update (torch.optim.Adam, foreach=False).
__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n,
                            AdamConstants c) {
  CXR_GRID_STRIDE(i, n) {
    float gi = g[i];
    float pi = p[i];
    if (c.decoupled) {
      pi *= c.decay;
    } else if (c.weight_decay != 0.0f) {
      gi += c.weight_decay * pi;
    }
    const float mi = c.beta1 * m[i] + (1.0f - c.beta1) * gi;
    const float vi = c.beta2 * v[i] + (1.0f - c.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = sqrtf(vi) / c.bc2_sqrt + c.eps;
    p[i] = pi - c.step_size * mi / denom;
  }
}

// HostBackend::sgd_update (torch.optim.SGD with momentum, dampening, nesterov, L2 decay).
__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdConstants c) {
  CXR_GRID_STRIDE(i, n) {
    float d = g[i];
    if (c.weight_decay != 0.0f) d += c.weight_decay * p[i];
    if (c.momentum != 0.0f && buf) {
      const float b = c.first_step ? d : c.momentum * buf[i] + (1.0f - c.dampening) * d;
      buf[i] = b;
      d = c.nesterov ? d + c.momentum * b : b;
    }
    p[i] -= c.lr * d;
  }
}

}  // namespace

cudaError_t sum_squares(const float* x, int64_t n, double* acc, cudaStream_t s) {
  sum_squares_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, n, acc);
  return cudaGetLastError();
}

cudaError_t count_nonfinite(const float* x, int64_t n, int* bad, cudaStream_t s) {
  nonfinite_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, n, bad);
  return cudaGetLastError();
}

cudaError_t scale(float* x, int64_t n, float factor, cudaStream_t s) {
  scale_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, n, factor);
  return cudaGetLastError();
}

cudaError_t adam_update(float* p, const float* g, float* m, float* v, int64_t n, AdamConstants c,
                        cudaStream_t s) {
  adam_kernel<<<blocks_for(n), kThreads, 0, s>>>(p, g, m, v, n, c);
  return cudaGetLastError();
}

cudaError_t sgd_update(float* p, const float* g, float* buf, int64_t n, SgdConstants c,
                       cudaStream_t s) {
  sgd_kernel<<<blocks_for(n), kThreads, 0, s>>>(p, g, buf, n, c);
  return cudaGetLastError();
}

}  // namespace cxr::gpu
