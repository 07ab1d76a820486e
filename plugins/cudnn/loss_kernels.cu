// Softmax cross-entropy and BCE-with-logits on f32 logits, one thread block (a batch of class
// scores is small), double arithmetic: the formulas of plugins/reference/kernels.h, written once in
// kernel_math.h (host-tested); the block sums fold in a fixed order.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

// L = (1−ε)·Σᵢ w[yᵢ]·(lse − z[i,yᵢ]) / W + (ε/K)·Σᵢ Σ_c w[c]·(lse − z[i,c]) / W, W = Σᵢ w[yᵢ];
// dz[i,c] = ((1−ε)·w[yᵢ]·(p − δ) + (ε/K)·(p·Σw − w[c])) / W · dloss.
__global__ void cross_entropy_kernel(const float* z, const float* target, const float* weight,
                                     double eps, int64_t n, int64_t k, float* loss,
                                     const float* dloss, float* dz) {
  __shared__ double shared[kThreads];
  double wsum = 0, total = 0, bad = 0, wall = 0;
  for (int64_t c = 0; c < k; ++c) wall += class_weight_of(weight, c);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t y = label_of(target, i, k);
    if (y < 0) {
      bad = 1;
      continue;
    }
    wsum += class_weight_of(weight, y);
    if (loss) total += cross_entropy_row(z + i * k, y, weight, eps, k);
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
    for (int64_t c = 0; c < k; ++c)
      dz[i * k + c] =
          static_cast<float>(cross_entropy_grad(zi, lse, y, c, weight, wall, eps, k) * scale);
  }
}

// Mean over the unmasked terms (target ≥ 0) of (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z),
// softplus in the overflow-safe form: the count of unmasked terms is summed first (the gradient
// scale needs it), then the terms; no term left gives loss 0 and zero gradients.
__global__ void bce_kernel(const float* z, const float* t, const float* pos_weight, int64_t n,
                           int64_t k, float* loss, const float* dloss, float* dz) {
  __shared__ double shared[kThreads];
  const int64_t count = n * k;
  double used = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) used += bce_used(t[i]) ? 1.0 : 0.0;
  used = block_sum(used, shared);
  const double divisor = used > 0 ? used : 1.0;
  double total = 0;
  const double scale = dz ? static_cast<double>(dloss[0]) / divisor : 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const double pw = class_weight_of(pos_weight, i % k);
    if (loss) total += bce_term(z[i], t[i], pw);
    if (dz) dz[i] = static_cast<float>(bce_grad(z[i], t[i], pw) * scale);
  }
  if (!loss) return;
  total = block_sum(total, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(total / divisor);
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
