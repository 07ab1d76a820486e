// Softmax cross-entropy and BCE-with-logits on f32 logits, one thread block (a batch of class
// scores is small), double arithmetic: the formulas of plugins/reference/kernels.h.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

// Class index of target i, or -1 when it is not an integer in 0..k-1.
__device__ __forceinline__ int64_t label_of(const float* target, int64_t i, int64_t k) {
  const float v = target[i];
  if (!(v >= 0.0f) || v >= static_cast<float>(k)) return -1;
  const auto y = static_cast<int64_t>(v);
  return static_cast<float>(y) == v ? y : -1;
}

__device__ __forceinline__ double log_sum_exp(const float* zi, int64_t k) {
  double mx = zi[0];
  for (int64_t c = 1; c < k; ++c) mx = fmax(mx, static_cast<double>(zi[c]));
  double se = 0.0;
  for (int64_t c = 0; c < k; ++c) se += exp(static_cast<double>(zi[c]) - mx);
  return mx + log(se);
}

// L = (1−ε)·Σᵢ w[yᵢ]·(lse − z[i,yᵢ]) / W + (ε/K)·Σᵢ Σ_c w[c]·(lse − z[i,c]) / W, W = Σᵢ w[yᵢ];
// dz[i,c] = ((1−ε)·w[yᵢ]·(p − δ) + (ε/K)·(p·Σw − w[c])) / W · dloss.
__global__ void cross_entropy_kernel(const float* z, const float* target, const float* weight,
                                     double eps, int64_t n, int64_t k, float* loss,
                                     const float* dloss, float* dz) {
  __shared__ double shared[kThreads];
  double wsum = 0, total = 0, bad = 0, wall = 0;
  for (int64_t c = 0; c < k; ++c) wall += weight ? weight[c] : 1.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t y = label_of(target, i, k);
    if (y < 0) {
      bad = 1;
      continue;
    }
    const double wy = weight ? weight[y] : 1.0;
    wsum += wy;
    if (!loss) continue;
    const float* zi = z + i * k;
    const double lse = log_sum_exp(zi, k);
    total += (1.0 - eps) * wy * (lse - zi[y]);
    for (int64_t c = 0; c < k; ++c)
      total += eps / static_cast<double>(k) * (weight ? weight[c] : 1.0) * (lse - zi[c]);
  }
  wsum = block_sum(wsum, shared);
  bad = block_sum(bad, shared);
  if (loss) {
    total = block_sum(total, shared);
    if (threadIdx.x == 0) loss[0] = bad > 0 ? NAN : static_cast<float>(total / wsum);
  }
  if (!dz) return;
  const double scale = (bad > 0 ? NAN : static_cast<double>(dloss[0])) / wsum;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t y = label_of(target, i, k);
    const float* zi = z + i * k;
    const double lse = log_sum_exp(zi, k);
    const double wy = y < 0 ? 0.0 : (weight ? weight[y] : 1.0);
    for (int64_t c = 0; c < k; ++c) {
      const double p = exp(static_cast<double>(zi[c]) - lse);
      const double wc = weight ? weight[c] : 1.0;
      const double hard = (1.0 - eps) * wy * (p - (c == y ? 1.0 : 0.0));
      const double soft = eps / static_cast<double>(k) * (p * wall - wc);
      dz[i * k + c] = static_cast<float>((hard + soft) * scale);
    }
  }
}

// Mean over N·K of (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z), softplus in the overflow-safe form.
__global__ void bce_kernel(const float* z, const float* t, const float* pos_weight, int64_t n,
                           int64_t k, float* loss, const float* dloss, float* dz) {
  __shared__ double shared[kThreads];
  const int64_t count = n * k;
  double total = 0;
  const double scale = dz ? static_cast<double>(dloss[0]) / static_cast<double>(count) : 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const double zi = z[i], ti = t[i];
    const double lw = 1.0 + ((pos_weight ? pos_weight[i % k] : 1.0) - 1.0) * ti;
    if (loss) total += (1.0 - ti) * zi + lw * (log1p(exp(-fabs(zi))) + fmax(-zi, 0.0));
    if (dz) dz[i] = static_cast<float>(((1.0 - ti) - lw / (1.0 + exp(zi))) * scale);
  }
  if (!loss) return;
  total = block_sum(total, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(total / static_cast<double>(count));
}

}  // namespace

cudaError_t cross_entropy(const float* z, const float* target, const float* class_weight,
                          double smoothing, int64_t n, int64_t k, float* loss, const float* dloss,
                          float* dz, cudaStream_t s) {
  cross_entropy_kernel<<<1, kThreads, 0, s>>>(z, target, class_weight, smoothing, n, k, loss, dloss,
                                              dz);
  return cudaGetLastError();
}

cudaError_t bce_with_logits(const float* z, const float* target, const float* pos_weight, int64_t n,
                            int64_t k, float* loss, const float* dloss, float* dz, cudaStream_t s) {
  bce_kernel<<<1, kThreads, 0, s>>>(z, target, pos_weight, n, k, loss, dloss, dz);
  return cudaGetLastError();
}

}  // namespace cxr::gpu
