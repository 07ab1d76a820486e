// The arithmetic of every cuDNN-backend kernel, one element (or one row, one window) at a time,
// as __host__ __device__ functions: the .cu kernels only add the loops over threads, and the
// host tests (tests/cudnn/kernel_math_test.cpp) run the very same code on the CPU against the
// reference backend and plain C++. Include from .cu files and from host C++ alike (the CUDA
// headers' bf16/f16 conversions have host implementations that round the same way).
//
// Contracts: values are computed in float (per element) or double (reductions, losses), and
// stored in the tensor's type with round-to-nearest-even. The optimizer updates follow the
// statement order of engine/host_backend.cpp and must be compiled without FMA contraction
// (nvcc --fmad=false, g++ -ffp-contract=off) to round as it does.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "plugins/cudnn/kernels.h"

namespace cxr::gpu {

// ---- element types -------------------------------------------------------------------------
CXR_HOST_DEVICE inline float to_float(float v) { return v; }
CXR_HOST_DEVICE inline float to_float(__half v) { return __half2float(v); }
CXR_HOST_DEVICE inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
CXR_HOST_DEVICE inline T from_float(float v);
template <>
CXR_HOST_DEVICE inline float from_float<float>(float v) {
  return v;
}
template <>
CXR_HOST_DEVICE inline __half from_float<__half>(float v) {
  return __float2half_rn(v);
}
template <>
CXR_HOST_DEVICE inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

template <class T>
CXR_HOST_DEVICE inline float load(const T* p, int64_t i) {
  return to_float(p[i]);
}
template <class T>
CXR_HOST_DEVICE inline void store(T* p, int64_t i, float v) {
  p[i] = from_float<T>(v);
}
// v as the tensor will hold it (what a later read of the stored value gives).
template <class T>
CXR_HOST_DEVICE inline float rounded(float v) {
  return to_float(from_float<T>(v));
}

// ---- layouts -------------------------------------------------------------------------------
// Offset of logical (n, c, h, w) in format f.
CXR_HOST_DEVICE inline int64_t offset(Fmt f, const Dims& d, int64_t n, int64_t c, int64_t h,
                                      int64_t w) {
  return f == Fmt::Nchw ? ((n * d.c + c) * d.h + h) * d.w + w : ((n * d.h + h) * d.w + w) * d.c + c;
}
// The logical (n, c, h, w) of storage index i in format f (inverse of offset()).
CXR_HOST_DEVICE inline void decode(Fmt f, const Dims& d, int64_t i, int64_t& n, int64_t& c,
                                   int64_t& h, int64_t& w) {
  if (f == Fmt::Nchw) {
    w = i % d.w, i /= d.w;
    h = i % d.h, i /= d.h;
    c = i % d.c, n = i / d.c;
  } else {
    c = i % d.c, i /= d.c;
    w = i % d.w, i /= d.w;
    h = i % d.h, n = i / d.h;
  }
}
// The channel of storage index i (per-channel vectors: BN statistics).
CXR_HOST_DEVICE inline int64_t channel_of(Fmt f, const Dims& d, int64_t i) {
  return f == Fmt::Nhwc ? i % d.c : i / (d.h * d.w) % d.c;
}
// Element i of dst (format df) reads this index of src (format sf), both of logical shape d.
CXR_HOST_DEVICE inline int64_t convert_source(Fmt sf, Fmt df, const Dims& d, int64_t i) {
  int64_t n, c, h, w;
  decode(df, d, i, n, c, h, w);
  return offset(sf, d, n, c, h, w);
}

// ---- elementwise ---------------------------------------------------------------------------
// max(0, v) that keeps NaN (and −0), as the reference's fused ReLUs and oneDNN do: fmaxf would
// turn a NaN into 0 and hide a blow-up from the trainer's non-finite check.
CXR_HOST_DEVICE inline float relu(float v) { return v < 0.0f ? 0.0f : v; }
// The ReLU gradient through a mask read from the ReLU's input or output: 0 at the kink and for
// NaN (as the reference: `!(y > 0)` → 0).
CXR_HOST_DEVICE inline float relu_grad(float ref, float dy) { return ref > 0.0f ? dy : 0.0f; }
CXR_HOST_DEVICE inline float add(float a, float b, bool fuse_relu) {
  const float v = a + b;
  return fuse_relu ? relu(v) : v;
}

// Batch norm with saved statistics (cuDNN's saved mean and inverse standard deviation): the
// training forward's output, recomputed bit for bit from the same x (the layer writes its
// training output with this too, so both agree exactly).
CXR_HOST_DEVICE inline float batchnorm(float x, float mean, float inv_std, float gamma, float beta,
                                       bool fuse_relu) {
  const float v = gamma * ((x - mean) * inv_std) + beta;
  return fuse_relu ? relu(v) : v;
}

// The gradient into a fused BN+ReLU's batch norm: dy masked by the output the forward stored
// (recomputed from x and the saved statistics, rounded to the tensor's type T), so backward needs
// no y and the output can be dropped after forward.
template <class T>
CXR_HOST_DEVICE inline float batchnorm_relu_grad(float x, float dy, float mean, float inv_std,
                                                 float gamma, float beta) {
  return relu_grad(rounded<T>(batchnorm(x, mean, inv_std, gamma, beta, true)), dy);
}

// Σ_r x[r, k] over a row-major [rows, c] view, in double.
template <class T>
CXR_HOST_DEVICE inline float column_sum(const T* x, int64_t rows, int64_t c, int64_t k) {
  double s = 0.0;
  for (int64_t r = 0; r < rows; ++r) s += load(x, r * c + k);
  return static_cast<float>(s);
}

// ---- pooling -------------------------------------------------------------------------------
// Max over the k×k window of output (n, c, oh, ow): the first maximum in row-major window order
// (PyTorch's tie rule), a NaN wins at once. `where` gets its spatial index h·W + w (−1 for an
// empty window, which the geometry never makes).
template <class T>
CXR_HOST_DEVICE inline float maxpool_window(const T* x, Fmt f, const Dims& in, const PoolGeometry& g,
                                            int64_t n, int64_t c, int64_t oh, int64_t ow,
                                            int32_t& where) {
  float best = -INFINITY;
  where = -1;
  for (int64_t kh = 0; kh < g.kernel; ++kh) {
    const int64_t h = oh * g.stride - g.padding + kh;
    if (h < 0 || h >= in.h) continue;
    for (int64_t kw = 0; kw < g.kernel; ++kw) {
      const int64_t w = ow * g.stride - g.padding + kw;
      if (w < 0 || w >= in.w) continue;
      const float v = load(x, offset(f, in, n, c, h, w));
      if (v > best || v != v || where < 0) {
        best = v;
        where = static_cast<int32_t>(h * in.w + w);
        if (v != v) return best;
      }
    }
  }
  return best;
}

// dx at input (n, c, h, w): the sum of dy over the (at most ceil(k/s)²) windows whose recorded
// maximum it was, in row-major window order.
template <class T>
CXR_HOST_DEVICE inline float maxpool_input_grad(const T* dy, const int32_t* argmax, Fmt f,
                                                const Dims& in, const PoolGeometry& g, int64_t n,
                                                int64_t c, int64_t h, int64_t w) {
  const Dims out{in.n, in.c, g.oh, g.ow};
  const int32_t me = static_cast<int32_t>(h * in.w + w);
  // Windows oh with oh·s − p ≤ h ≤ oh·s − p + k − 1 (numerators may be negative: clamp first).
  const int64_t oh_lo = (h + g.padding - g.kernel + g.stride) / g.stride,
                oh_hi = (h + g.padding) / g.stride;
  const int64_t ow_lo = (w + g.padding - g.kernel + g.stride) / g.stride,
                ow_hi = (w + g.padding) / g.stride;
  const int64_t oh0 = oh_lo < 0 ? 0 : oh_lo, oh1 = oh_hi < g.oh ? oh_hi : g.oh - 1;
  const int64_t ow0 = ow_lo < 0 ? 0 : ow_lo, ow1 = ow_hi < g.ow ? ow_hi : g.ow - 1;
  float sum = 0.0f;
  for (int64_t oh = oh0; oh <= oh1; ++oh)
    for (int64_t ow = ow0; ow <= ow1; ++ow) {
      const int64_t o = offset(f, out, n, c, oh, ow);
      if (argmax[o] == me) sum += load(dy, o);
    }
  return sum;
}

// Mean over H×W of channel (n, c), summed in double.
template <class T>
CXR_HOST_DEVICE inline float avgpool_mean(const T* x, Fmt f, const Dims& in, int64_t n, int64_t c) {
  double s = 0.0;
  for (int64_t h = 0; h < in.h; ++h)
    for (int64_t w = 0; w < in.w; ++w) s += load(x, offset(f, in, n, c, h, w));
  return static_cast<float>(s / static_cast<double>(in.h * in.w));
}

// ---- losses (f32 logits, double arithmetic; formulas of plugins/reference/kernels.h) --------
// Class index of target i, or −1 when it is not an integer in 0..k−1.
CXR_HOST_DEVICE inline int64_t label_of(const float* target, int64_t i, int64_t k) {
  const float v = target[i];
  if (!(v >= 0.0f) || v >= static_cast<float>(k)) return -1;
  const auto y = static_cast<int64_t>(v);
  return static_cast<float>(y) == v ? y : -1;
}

CXR_HOST_DEVICE inline double log_sum_exp(const float* zi, int64_t k) {
  double mx = zi[0];
  for (int64_t c = 1; c < k; ++c) mx = fmax(mx, static_cast<double>(zi[c]));
  double se = 0.0;
  for (int64_t c = 0; c < k; ++c) se += exp(static_cast<double>(zi[c]) - mx);
  return mx + log(se);
}

CXR_HOST_DEVICE inline double class_weight_of(const float* weight, int64_t c) {
  return weight ? static_cast<double>(weight[c]) : 1.0;
}

// Row i's unnormalised cross-entropy term (1−ε)·w[y]·(lse − z[y]) + (ε/K)·Σ_c w[c]·(lse − z[c]).
CXR_HOST_DEVICE inline double cross_entropy_row(const float* zi, int64_t y, const float* weight,
                                                double eps, int64_t k) {
  const double lse = log_sum_exp(zi, k);
  double total = (1.0 - eps) * class_weight_of(weight, y) * (lse - zi[y]);
  for (int64_t c = 0; c < k; ++c)
    total += eps / static_cast<double>(k) * class_weight_of(weight, c) * (lse - zi[c]);
  return total;
}

// dL/dz[i, c] before the 1/W · dloss scale; y < 0 (a bad target) contributes no hard term.
// `wall` = Σ_c w[c].
CXR_HOST_DEVICE inline double cross_entropy_grad(const float* zi, double lse, int64_t y, int64_t c,
                                                 const float* weight, double wall, double eps,
                                                 int64_t k) {
  const double p = exp(static_cast<double>(zi[c]) - lse);
  const double wy = y < 0 ? 0.0 : class_weight_of(weight, y);
  const double hard = (1.0 - eps) * wy * (p - (c == y ? 1.0 : 0.0));
  const double soft = eps / static_cast<double>(k) * (p * wall - class_weight_of(weight, c));
  return hard + soft;
}

// A BCE target < 0 is masked (plugins/reference/kernels.h: the loss is the mean over the
// unmasked terms); bce_term and bce_grad give 0 for it, bce_used says whether it counts.
CXR_HOST_DEVICE inline bool bce_used(double t) { return !(t < 0.0); }
// (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z), softplus in the overflow-safe form; 0 when masked.
CXR_HOST_DEVICE inline double bce_term(double z, double t, double pos_weight) {
  if (!bce_used(t)) return 0.0;
  const double lw = 1.0 + (pos_weight - 1.0) * t;
  return (1.0 - t) * z + lw * (log1p(exp(-fabs(z))) + fmax(-z, 0.0));
}
// d bce_term / dz (0 when masked).
CXR_HOST_DEVICE inline double bce_grad(double z, double t, double pos_weight) {
  if (!bce_used(t)) return 0.0;
  const double lw = 1.0 + (pos_weight - 1.0) * t;
  return (1.0 - t) - lw / (1.0 + exp(z));
}

// ---- optimizer updates (engine/host_backend.cpp, statement for statement) --------------------
// torch.optim.Adam/AdamW (foreach=False) on one element.
CXR_HOST_DEVICE inline void adam_element(float& p, float g, float& m, float& v,
                                         const AdamConstants& c) {
  float gi = g;
  float pi = p;
  if (c.decoupled) {
    pi *= c.decay;
  } else if (c.weight_decay != 0.0f) {
    gi += c.weight_decay * pi;
  }
  const float mi = c.beta1 * m + (1.0f - c.beta1) * gi;
  const float vi = c.beta2 * v + (1.0f - c.beta2) * gi * gi;
  m = mi;
  v = vi;
  const float denom = sqrtf(vi) / c.bc2_sqrt + c.eps;
  p = pi - c.step_size * mi / denom;
}

// torch.optim.SGD (momentum, dampening, nesterov, L2 decay) on one element; `buf` null when
// momentum is 0.
CXR_HOST_DEVICE inline void sgd_element(float& p, float g, float* buf, const SgdConstants& c) {
  float d = g;
  if (c.weight_decay != 0.0f) d += c.weight_decay * p;
  if (c.momentum != 0.0f && buf) {
    const float b = c.first_step ? d : c.momentum * *buf + (1.0f - c.dampening) * d;
    *buf = b;
    d = c.nesterov ? d + c.momentum * b : b;
  }
  p -= c.lr * d;
}

// ---- fixed-order sums of squares -------------------------------------------------------------
// Σ x² over a segment in an order fixed by the segment length alone (never by scheduling):
// kSumBlocks blocks of kSumThreads threads; thread t of block b adds the elements
// i ≡ b·kSumThreads + t (mod kSumBlocks·kSumThreads) in increasing order; each block folds its
// threads pairwise (tree_sum); a second pass folds the kSumBlocks partials the same way. Two
// runs, or two networks, get the same bits.
constexpr int kSumThreads = 256;
constexpr int kSumBlocks = 128;

CXR_HOST_DEVICE inline double squares_of_thread(const float* x, int64_t n, int64_t first) {
  double s = 0.0;
  for (int64_t i = first; i < n; i += static_cast<int64_t>(kSumBlocks) * kSumThreads) {
    const double v = x[i];
    s += v * v;
  }
  return s;
}

// In-place pairwise fold of v[0..kSumThreads) (the order of a shared-memory tree reduction
// with halving strides); returns v[0].
CXR_HOST_DEVICE inline double tree_sum(double* v) {
  for (int stride = kSumThreads / 2; stride > 0; stride /= 2)
    for (int t = 0; t < stride; ++t) v[t] += v[t + stride];
  return v[0];
}

// The whole two-pass sum on the host, in the device's order (what the kernels must return).
inline double sum_squares_fixed_order(const float* x, int64_t n) {
  double partial[kSumThreads] = {};
  for (int b = 0; b < kSumBlocks; ++b) {
    double lanes[kSumThreads];
    for (int t = 0; t < kSumThreads; ++t)
      lanes[t] = squares_of_thread(x, n, static_cast<int64_t>(b) * kSumThreads + t);
    partial[b] = tree_sum(lanes);
  }
  return tree_sum(partial);
}

}  // namespace cxr::gpu
