// Optimizer services over f32 parameter/gradient vectors. Compiled with --fmad=false (see
// CMakeLists.txt) so every product and sum rounds exactly as HostBackend's float loops do; the
// per-element arithmetic is kernel_math.h's, which the host tests run against HostBackend.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

// Pass 1: block b of segment blockIdx.y folds its lanes (squares_of_thread, then block_sum) into
// partials[segment·kSumBlocks + b]. A fixed grid (kSumBlocks per segment), not one sized by the
// device, so the order depends on the segment's length only.
__global__ void sum_squares_partial_kernel(const float* const* segments, const int64_t* lengths,
                                           double* partials) {
  __shared__ double shared[kThreads];
  const int seg = static_cast<int>(blockIdx.y);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kSumThreads + threadIdx.x;
  const double s = block_sum(squares_of_thread(segments[seg], lengths[seg], first), shared);
  if (threadIdx.x == 0) partials[static_cast<int64_t>(seg) * kSumBlocks + blockIdx.x] = s;
}

// Pass 2: one block per segment folds its kSumBlocks partials in the same tree order.
__global__ void sum_squares_final_kernel(const double* partials, double* out) {
  __shared__ double shared[kThreads];
  const int64_t seg = blockIdx.x;
  const double v = threadIdx.x < kSumBlocks ? partials[seg * kSumBlocks + threadIdx.x] : 0.0;
  const double s = block_sum(v, shared);
  if (threadIdx.x == 0) out[seg] = s;
}

// OR is order-independent: the flag is the same whatever the schedule.
__global__ void nonfinite_kernel(const float* x, int64_t n, int* bad) {
  int local = 0;
  CXR_GRID_STRIDE(i, n) local |= !isfinite(x[i]);
  if (local) atomicOr(bad, 1);
}

__global__ void scale_kernel(float* x, int64_t n, float f) { CXR_GRID_STRIDE(i, n) x[i] *= f; }

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n,
                            AdamConstants c) {
  CXR_GRID_STRIDE(i, n) adam_element(p[i], g[i], m[i], v[i], c);
}

__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdConstants c) {
  CXR_GRID_STRIDE(i, n) sgd_element(p[i], g[i], buf ? buf + i : nullptr, c);
}

}  // namespace

cudaError_t sum_squares(const float* const* segments, const int64_t* lengths, int count,
                        double* partials, double* out, cudaStream_t s) {
  if (count <= 0) return cudaSuccess;
  sum_squares_partial_kernel<<<dim3(kSumBlocks, static_cast<unsigned>(count)), kThreads, 0, s>>>(
      segments, lengths, partials);
  sum_squares_final_kernel<<<static_cast<unsigned>(count), kThreads, 0, s>>>(partials, out);
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
