#include "plugins/onednn/batchnorm_add_kernel.h"

#include "plugins/onednn/residual_kernels.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CXR_HAVE_AVX2_PATH 1
#endif

namespace cxr::dnn {
namespace {

// Sums over one image's chunk of a channel block, per lane: of x, or of (x − centre)². Float
// accumulators over runs of kRun pixels (vector code, short rounding chains) flushed into double.
// Every variant adds pixel k into accumulator k % 2 of its lane and sums the two at the end of a
// run, so SSE2, AVX2 and the scalar loop round alike and give the same bits.
constexpr int64_t kRun = 64;
constexpr int64_t kAheadFloats = 24 * 16;  // floats (24 cache lines) prefetched ahead in the first pass

template <int L, bool kSquares>
void chunk_sums_scalar(const float* chunk, int64_t k0, int64_t k1, const float* centre, float run[L]) {
  float acc[2][L] = {};
  for (int64_t k = k0; k < k1; ++k)
    for (int l = 0; l < L; ++l) {
      const float v = chunk[k * L + l], dev = kSquares ? v - centre[l] : v;
      acc[(k - k0) % 2][l] += kSquares ? dev * dev : v;
    }
  for (int l = 0; l < L; ++l) run[l] = acc[0][l] + acc[1][l];
}

#if defined(__SSE2__)
template <int L, bool kSquares>
void chunk_sums_sse2(const float* chunk, int64_t k0, int64_t k1, const float* centre, float run[L]) {
  constexpr int V = L / 4;
  __m128 acc[2 * V], c[V];
  for (__m128& a : acc) a = _mm_setzero_ps();
  for (int v = 0; v < V; ++v) c[v] = kSquares ? _mm_loadu_ps(centre + 4 * v) : _mm_setzero_ps();
  auto add = [&](__m128& a, int64_t k, int v) {
    const __m128 x = _mm_loadu_ps(chunk + k * L + 4 * v);
    if constexpr (kSquares) {
      const __m128 dev = _mm_sub_ps(x, c[v]);
      a = _mm_add_ps(a, _mm_mul_ps(dev, dev));
    } else {
      a = _mm_add_ps(a, x);
    }
  };
  int64_t k = k0;
  for (; k + 1 < k1; k += 2) {
    // Ask for lines well ahead: a single stream per core does not keep enough misses in flight on
    // its own (measured: 12 instead of 20+ GB/s).
    if constexpr (!kSquares) _mm_prefetch(reinterpret_cast<const char*>(chunk + k * L + kAheadFloats), _MM_HINT_T0);
    for (int v = 0; v < V; ++v) add(acc[v], k, v), add(acc[V + v], k + 1, v);
  }
  for (; k < k1; ++k)
    for (int v = 0; v < V; ++v) add(acc[v], k, v);
  for (int v = 0; v < V; ++v) _mm_storeu_ps(run + 4 * v, _mm_add_ps(acc[v], acc[V + v]));
}
#endif

#if defined(CXR_HAVE_AVX2_PATH)
// No "fma" in the target: the compiler may not contract (x − c)² + a, so the bits match SSE2's.
template <int L, bool kSquares>
__attribute__((target("avx2"))) void chunk_sums_avx2(const float* chunk, int64_t k0, int64_t k1, const float* centre,
                                                     float run[L]) {
  constexpr int V = L / 8;
  __m256 acc[2 * V], c[V];
  for (__m256& a : acc) a = _mm256_setzero_ps();
  for (int v = 0; v < V; ++v) c[v] = kSquares ? _mm256_loadu_ps(centre + 8 * v) : _mm256_setzero_ps();
  // A lambda would not inherit the target attribute: the step is written out.
  int64_t k = k0;
  for (; k + 1 < k1; k += 2) {
    if constexpr (!kSquares) _mm_prefetch(reinterpret_cast<const char*>(chunk + k * L + kAheadFloats), _MM_HINT_T0);
    for (int v = 0; v < V; ++v)
      for (int p = 0; p < 2; ++p) {
        const __m256 x = _mm256_loadu_ps(chunk + (k + p) * L + 8 * v);
        if constexpr (kSquares) {
          const __m256 dev = _mm256_sub_ps(x, c[v]);
          acc[p * V + v] = _mm256_add_ps(acc[p * V + v], _mm256_mul_ps(dev, dev));
        } else {
          acc[p * V + v] = _mm256_add_ps(acc[p * V + v], x);
        }
      }
  }
  for (; k < k1; ++k)
    for (int v = 0; v < V; ++v) {
      const __m256 x = _mm256_loadu_ps(chunk + k * L + 8 * v);
      if constexpr (kSquares) {
        const __m256 dev = _mm256_sub_ps(x, c[v]);
        acc[v] = _mm256_add_ps(acc[v], _mm256_mul_ps(dev, dev));
      } else {
        acc[v] = _mm256_add_ps(acc[v], x);
      }
    }
  for (int v = 0; v < V; ++v) _mm256_storeu_ps(run + 8 * v, _mm256_add_ps(acc[v], acc[V + v]));
}
#endif

bool cpu_has_avx2() {
#if defined(CXR_HAVE_AVX2_PATH)
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

template <int L, bool kSquares>
void chunk_sums(const float* chunk, int64_t spatial, const float* centre, double out[L], bool avx2) {
  for (int l = 0; l < L; ++l) out[l] = 0;
  for (int64_t k0 = 0; k0 < spatial; k0 += kRun) {
    const int64_t k1 = std::min(spatial, k0 + kRun);
    float run[L];
#if defined(CXR_HAVE_AVX2_PATH)
    if (avx2) {
      chunk_sums_avx2<L, kSquares>(chunk, k0, k1, centre, run);
    } else
#endif
    {
      (void)avx2;
#if defined(__SSE2__)
      chunk_sums_sse2<L, kSquares>(chunk, k0, k1, centre, run);
#else
      chunk_sums_scalar<L, kSquares>(chunk, k0, k1, centre, run);
#endif
    }
    for (int l = 0; l < L; ++l) out[l] += run[l];
  }
}

// Mean and biased variance of one channel block over all images, per lane: per image a mean and
// the squared deviations from it (the chunk is in cache for the second pass), merged in double.
template <int L>
void block_statistics(const float* x, const BlockedDims& d, int64_t cb, double mean[L], double var[L], bool avx2) {
  double count = 0;
  for (int l = 0; l < L; ++l) mean[l] = var[l] = 0;
  const auto hw = static_cast<double>(d.spatial);
  for (int64_t n = 0; n < d.n; ++n) {
    const float* chunk = x + (n * d.blocks + cb) * d.spatial * L;
    double sum[L], sq[L];
    chunk_sums<L, false>(chunk, d.spatial, nullptr, sum, avx2);
    float centre[L];
    for (int l = 0; l < L; ++l) centre[l] = static_cast<float>(sum[l] / hw);
    chunk_sums<L, true>(chunk, d.spatial, centre, sq, avx2);  // deviations from the float centre used
    const double total = count + hw;
    for (int l = 0; l < L; ++l) {
      const double delta = centre[l] - mean[l];
      mean[l] += delta * hw / total;
      var[l] += sq[l] + delta * delta * count * hw / total;  // M2, Chan et al.
    }
    count = total;
  }
  for (int l = 0; l < L; ++l) var[l] /= count;
}

bool aligned(const void* a, const void* b, const void* c, uintptr_t to) {
  return (reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) | reinterpret_cast<uintptr_t>(c)) % to == 0;
}

#if defined(CXR_HAVE_AVX2_PATH)
template <int L>
__attribute__((target("avx2"))) void normalize_avx2(const float* x, const float* id, float* y, int64_t spatial,
                                                    const float* mean, const float* scale, const float* shift,
                                                    bool relu) {
  constexpr int V = L / 8;
  __m256 m[V], s[V], b[V];
  for (int v = 0; v < V; ++v)
    m[v] = _mm256_loadu_ps(mean + 8 * v), s[v] = _mm256_loadu_ps(scale + 8 * v), b[v] = _mm256_loadu_ps(shift + 8 * v);
  for (int64_t k = 0; k < spatial; ++k)
    for (int v = 0; v < V; ++v) {
      const int64_t at = k * L + 8 * v;
      __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_load_ps(x + at), m[v]), s[v]), b[v]);
      t = _mm256_add_ps(t, _mm256_load_ps(id + at));
      if (relu) t = _mm256_max_ps(_mm256_setzero_ps(), t);  // returns its second operand on NaN
      _mm256_stream_ps(y + at, t);
    }
}
#endif

template <int L>
void normalize_chunk(const float* x, const float* id, float* y, int64_t spatial, const float* mean, const float* scale,
                     const float* shift, bool relu, bool avx2) {
#if defined(CXR_HAVE_AVX2_PATH)
  if (avx2 && aligned(x, id, y, 32)) return normalize_avx2<L>(x, id, y, spatial, mean, scale, shift, relu);
#endif
  (void)avx2;
  int64_t k0 = 0;
#if defined(__SSE2__)
  if (aligned(x, id, y, 16)) {
    constexpr int V = L / 4;
    __m128 m[V], s[V], b[V];
    for (int v = 0; v < V; ++v)
      m[v] = _mm_loadu_ps(mean + 4 * v), s[v] = _mm_loadu_ps(scale + 4 * v), b[v] = _mm_loadu_ps(shift + 4 * v);
    for (; k0 < spatial; ++k0)
      for (int v = 0; v < V; ++v) {
        const int64_t at = k0 * L + 4 * v;
        __m128 t = _mm_add_ps(_mm_mul_ps(_mm_sub_ps(_mm_load_ps(x + at), m[v]), s[v]), b[v]);
        t = _mm_add_ps(t, _mm_load_ps(id + at));
        if (relu) t = _mm_max_ps(_mm_setzero_ps(), t);  // maxps returns its second operand on NaN
        _mm_stream_ps(y + at, t);
      }
  }
#endif
  for (int64_t k = k0; k < spatial; ++k)
    for (int l = 0; l < L; ++l) {
      const int64_t at = k * L + l;
      const float t = (x[at] - mean[l]) * scale[l] + shift[l] + id[at];
      y[at] = relu ? relu_keeping_nan(t) : t;
    }
}

template <int L>
void forward(const float* x, const float* identity, float* y, const BlockedDims& d, const float* gamma,
             const float* beta, double eps, bool relu, float* mean, float* var, float* lanes, int threads, bool avx2) {
  // Per lane of every block: mean, γ/√(var + ε) and β; zeros for the padding lanes past C, whose
  // x and identity are zeros, so that y stays zero there.
  float* lane_mean = lanes;
  float* lane_scale = lanes + d.blocks * L;
  float* lane_shift = lanes + 2 * d.blocks * L;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t cb = 0; cb < d.blocks; ++cb) {
    double m[L], v[L];
    block_statistics<L>(x, d, cb, m, v, avx2);
    for (int l = 0; l < L; ++l) {
      const int64_t c = cb * L + l, at = cb * L + l;
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
        const int64_t at = (n * d.blocks + cb) * d.spatial * L;
        normalize_chunk<L>(x + at, identity + at, y + at, d.spatial, lane_mean + cb * L, lane_scale + cb * L,
                           lane_shift + cb * L, relu, avx2);
      }
#if defined(__SSE2__)
    _mm_sfence();  // streamed stores are weakly ordered: each thread fences its own
#endif
  }
}

}  // namespace

const char* batchnorm_add_isa() { return cpu_has_avx2() ? "avx2" : "sse2"; }

void batchnorm_add_forward(const float* x, const float* identity, float* y, const BlockedDims& d, const float* gamma,
                           const float* beta, double eps, bool relu, float* mean, float* var, float* lanes,
                           int threads, KernelIsa isa) {
  const bool avx2 = isa == KernelIsa::best && cpu_has_avx2();
  if (d.block == 16)
    forward<16>(x, identity, y, d, gamma, beta, eps, relu, mean, var, lanes, threads, avx2);
  else if (d.block == 8)
    forward<8>(x, identity, y, d, gamma, beta, eps, relu, mean, var, lanes, threads, avx2);
  else
    throw std::invalid_argument("batchnorm_add_forward: block " + std::to_string(d.block) + " (8 or 16 expected)");
}

}  // namespace cxr::dnn
