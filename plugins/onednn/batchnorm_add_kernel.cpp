#include "plugins/onednn/batchnorm_add_kernel.h"

#include "plugins/onednn/residual_kernels.h"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace cxr::dnn {
namespace {

constexpr int kLanes = 16;

// Sums over one image's chunk of a channel block, per lane: of x, or of (x − centre)². Float
// accumulators over runs of kRun pixels (vector code, short rounding chains) flushed into double.
constexpr int64_t kRun = 64;
constexpr int64_t kAhead = 24;  // pixels (cache lines) prefetched ahead in the first pass

template <bool kSquares>
void chunk_sums(const float* chunk, int64_t spatial, const float* centre, double out[kLanes]) {
  for (int l = 0; l < kLanes; ++l) out[l] = 0;
  for (int64_t k0 = 0; k0 < spatial; k0 += kRun) {
    const int64_t k1 = std::min(spatial, k0 + kRun);
    float run[kLanes];
#if defined(__SSE2__)
    // Two pixels per iteration into separate accumulators: eight independent add chains.
    __m128 acc[8], c[4];
    for (__m128& a : acc) a = _mm_setzero_ps();
    for (int v = 0; v < 4; ++v) c[v] = kSquares ? _mm_loadu_ps(centre + 4 * v) : _mm_setzero_ps();
    auto add = [&](__m128& a, int64_t k, int v) {
      const __m128 x = _mm_loadu_ps(chunk + k * kLanes + 4 * v);
      if constexpr (kSquares) {
        const __m128 dev = _mm_sub_ps(x, c[v]);
        a = _mm_add_ps(a, _mm_mul_ps(dev, dev));
      } else {
        a = _mm_add_ps(a, x);
      }
    };
    int64_t k = k0;
    for (; k + 1 < k1; k += 2) {
      // One pixel is one cache line; ask for lines well ahead: a single stream per core does
      // not keep enough misses in flight on its own (measured: 12 instead of 20+ GB/s).
      if constexpr (!kSquares) _mm_prefetch(reinterpret_cast<const char*>(chunk + (k + kAhead) * kLanes), _MM_HINT_T0);
      for (int v = 0; v < 4; ++v) add(acc[v], k, v), add(acc[4 + v], k + 1, v);
    }
    for (; k < k1; ++k)
      for (int v = 0; v < 4; ++v) add(acc[v], k, v);
    for (int v = 0; v < 4; ++v) _mm_storeu_ps(run + 4 * v, _mm_add_ps(acc[v], acc[4 + v]));
#else
    for (int l = 0; l < kLanes; ++l) run[l] = 0;
    for (int64_t k = k0; k < k1; ++k)
      for (int l = 0; l < kLanes; ++l) {
        const float v = chunk[k * kLanes + l], dev = kSquares ? v - centre[l] : v;
        run[l] += kSquares ? dev * dev : v;
      }
#endif
    for (int l = 0; l < kLanes; ++l) out[l] += run[l];
  }
}

// Mean and biased variance of one channel block over all images, per lane: per image a mean and
// the squared deviations from it (the chunk is in cache for the second pass), merged in double.
void block_statistics(const float* x, const BlockedDims& d, int64_t cb, double mean[kLanes], double var[kLanes]) {
  double count = 0;
  for (int l = 0; l < kLanes; ++l) mean[l] = var[l] = 0;
  const auto hw = static_cast<double>(d.spatial);
  for (int64_t n = 0; n < d.n; ++n) {
    const float* chunk = x + (n * d.blocks + cb) * d.spatial * kLanes;
    double sum[kLanes], sq[kLanes];
    chunk_sums<false>(chunk, d.spatial, nullptr, sum);
    float centre[kLanes];
    for (int l = 0; l < kLanes; ++l) centre[l] = static_cast<float>(sum[l] / hw);
    chunk_sums<true>(chunk, d.spatial, centre, sq);  // deviations from the float centre used
    const double total = count + hw;
    for (int l = 0; l < kLanes; ++l) {
      const double delta = centre[l] - mean[l];
      mean[l] += delta * hw / total;
      var[l] += sq[l] + delta * delta * count * hw / total;  // M2, Chan et al.
    }
    count = total;
  }
  for (int l = 0; l < kLanes; ++l) var[l] /= count;
}

void normalize_chunk(const float* x, const float* id, float* y, int64_t spatial, const float* mean, const float* scale,
                     const float* shift, bool relu) {
  int64_t k0 = 0;
#if defined(__SSE2__)
  if ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(id) | reinterpret_cast<uintptr_t>(y)) % 16 == 0) {
    __m128 m[4], s[4], b[4];
    for (int v = 0; v < 4; ++v)
      m[v] = _mm_loadu_ps(mean + 4 * v), s[v] = _mm_loadu_ps(scale + 4 * v), b[v] = _mm_loadu_ps(shift + 4 * v);
    for (; k0 < spatial; ++k0)
      for (int v = 0; v < 4; ++v) {
        const int64_t at = k0 * kLanes + 4 * v;
        __m128 t = _mm_add_ps(_mm_mul_ps(_mm_sub_ps(_mm_load_ps(x + at), m[v]), s[v]), b[v]);
        t = _mm_add_ps(t, _mm_load_ps(id + at));
        if (relu) t = _mm_max_ps(_mm_setzero_ps(), t);  // maxps returns its second operand on NaN
        _mm_stream_ps(y + at, t);
      }
  }
#endif
  for (int64_t k = k0; k < spatial; ++k)
    for (int l = 0; l < kLanes; ++l) {
      const int64_t at = k * kLanes + l;
      const float t = (x[at] - mean[l]) * scale[l] + shift[l] + id[at];
      y[at] = relu ? relu_keeping_nan(t) : t;
    }
}

}  // namespace

void batchnorm_add_forward(const float* x, const float* identity, float* y, const BlockedDims& d, const float* gamma,
                           const float* beta, double eps, bool relu, float* mean, float* var, float* lanes,
                           int threads) {
  // Per lane of every block: mean, γ/√(var + ε) and β; zeros for the padding lanes past C, whose
  // x and identity are zeros, so that y stays zero there.
  float* lane_mean = lanes;
  float* lane_scale = lanes + d.blocks * kLanes;
  float* lane_shift = lanes + 2 * d.blocks * kLanes;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t cb = 0; cb < d.blocks; ++cb) {
    double m[kLanes], v[kLanes];
    block_statistics(x, d, cb, m, v);
    for (int l = 0; l < kLanes; ++l) {
      const int64_t c = cb * kLanes + l, at = cb * kLanes + l;
      if (c >= d.channels) {
        lane_mean[at] = lane_scale[at] = lane_shift[at] = 0.f;
        continue;
      }
      mean[c] = static_cast<float>(m[l]);
      var[c] = static_cast<float>(v[l]);
      lane_mean[at] = mean[c];
      lane_scale[at] = static_cast<float>(gamma[c] / std::sqrt(v[l] + eps));
      lane_shift[at] = beta[c];
    }
  }
#pragma omp parallel num_threads(threads)
  {
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t cb = 0; cb < d.blocks; ++cb) {
        const int64_t at = (n * d.blocks + cb) * d.spatial * kLanes;
        normalize_chunk(x + at, identity + at, y + at, d.spatial, lane_mean + cb * kLanes, lane_scale + cb * kLanes,
                        lane_shift + cb * kLanes, relu);
      }
#if defined(__SSE2__)
    _mm_sfence();  // streamed stores are weakly ordered: each thread fences its own
#endif
  }
}

}  // namespace cxr::dnn
