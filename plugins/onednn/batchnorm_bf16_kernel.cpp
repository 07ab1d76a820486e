#include "plugins/onednn/batchnorm_bf16_kernel.h"

#include "plugins/onednn/bf16_lanes.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>


namespace cxr::dnn {

namespace bf16_portable {
#include "plugins/onednn/batchnorm_bf16_loops.inc"
}  // namespace bf16_portable

#if defined(CXR_HAVE_AVX512_BF16_PATH)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16")  // as cpu_has_avx512_bf16() checks
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12, inside _mm512_undefined_*
namespace bf16_avx512 {
#include "plugins/onednn/batchnorm_bf16_loops.inc"
}  // namespace bf16_avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

namespace {

// Cache lines for the per-thread accumulators, which must not share one (see each_piece).
constexpr size_t kLineBytes = 64;
template <class T>
int64_t whole_lines(int64_t count) {
  constexpr auto per_line = static_cast<int64_t>(kLineBytes / sizeof(T));
  return (count + per_line - 1) / per_line * per_line;
}
// The first line boundary at or after p (the buffer holds one spare line for it).
template <class T>
T* line_aligned(T* p) {
  const auto misalign = reinterpret_cast<uintptr_t>(p) % kLineBytes;
  return misalign ? reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(p) + kLineBytes - misalign) : p;
}

bool use_vector(Bf16Isa isa) { return isa == Bf16Isa::best && cpu_has_avx512_bf16(); }

void check(const Bf16Dims& d, const char* what) {
  if (!batchnorm_bf16_supports(d))
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(d.rows()) + " rows of " +
                                std::to_string(d.channels) + " channels (a multiple of 16 expected)");
}

bool aligned32(const void* a, const void* b = nullptr) {
  return ((reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b)) & 31) == 0;
}

// A contiguous run of rows of `width` channels (the row stride), channels [c0, c0 + width).
struct Piece {
  int64_t offset, c0, width, r0, r1;
};

// Thread t's pieces: nhwc, its share of the rows; nChw16c, its share of the (image, channel
// block) planes, each HW rows of 16 channels. The same split whichever loops run.
template <class Each>
void pieces_of(const Bf16Dims& d, int t, int threads, Each each) {
  if (!d.blocked) {
    const int64_t rows = d.rows();
    each(Piece{0, 0, d.channels, rows * t / threads, rows * (t + 1) / threads});
    return;
  }
  const int64_t blocks = d.channels / 16, planes = d.n * blocks;
  for (int64_t p = planes * t / threads; p < planes * (t + 1) / threads; ++p)
    each(Piece{p * d.spatial * 16, p % blocks * 16, 16, 0, d.spatial});
}

// Runs body(t, piece, scratch) over every thread's pieces on `threads` threads; scratch: 2·C
// floats per thread, each thread's on cache lines of its own (the accumulators are written
// every few rows: a line shared by two threads ran the statistics 3x slower).
template <class Body>
void each_piece(const Bf16Dims& d, int threads, Body body) {
  threads = std::max(1, threads);
  const int64_t stride = whole_lines<float>(2 * d.channels);
  std::vector<float> scratch(static_cast<size_t>(stride * threads) + kLineBytes / sizeof(float));
  float* base = line_aligned(scratch.data());
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    // A smaller team than asked does every share itself, in the same split.
    for (int share = t; share < threads; share += team)
      pieces_of(d, share, threads, [&](const Piece& p) { body(share, p, base + stride * share); });
  }
}

// Per-thread double sums [Σa (C), Σb (C)], each thread's on cache lines of its own.
struct ThreadSums {
  int64_t stride;
  std::vector<double> v;
  double* base;
  ThreadSums(int64_t channels, int threads)
      : stride(whole_lines<double>(2 * channels)),
        v(static_cast<size_t>(stride * threads) + kLineBytes / sizeof(double)),
        base(line_aligned(v.data())) {}
  double* of(int t) { return base + stride * t; }
};

void normalize_all(const uint16_t* x, const uint16_t* identity, uint16_t* y, const Bf16Dims& d,
                   const Bf16BatchNormCoefficients& co, bool relu, int threads, Bf16Isa isa) {
  const bool vec = use_vector(isa), stream = aligned32(x, y) && (!identity || aligned32(identity));
  each_piece(d, threads, [&](int, const Piece& p, float*) {
    const uint16_t* id = identity ? identity + p.offset : nullptr;
    const float *scale = co.scale.data() + p.c0, *shift = co.shift.data() + p.c0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec) {
      bf16_avx512::normalize(x + p.offset, id, y + p.offset, p.width, p.r0, p.r1, scale, shift, relu, stream);
      bf16_avx512::fence();
      return;
    }
#endif
    (void)vec;
    bf16_portable::normalize(x + p.offset, id, y + p.offset, p.width, p.r0, p.r1, scale, shift, relu, stream);
  });
}

}  // namespace

const char* batchnorm_bf16_isa() { return cpu_has_avx512_bf16() ? "avx512_bf16" : "portable"; }

bool batchnorm_bf16_supports(const Bf16Dims& d) { return d.rows() > 0 && d.channels > 0 && d.channels % 16 == 0; }

Bf16BatchNormCoefficients batchnorm_bf16_coefficients(const float* gamma, const float* beta, const float* mean,
                                                      const float* var, int64_t channels, double eps) {
  Bf16BatchNormCoefficients co;
  co.scale.resize(static_cast<size_t>(channels));
  co.shift.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const float s = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps));
    co.scale[c] = s;
    co.shift[c] = static_cast<float>(beta[c] - static_cast<double>(mean[c]) * s);
  }
  return co;
}

void batchnorm_bf16_forward(const uint16_t* x, const uint16_t* identity, uint16_t* y, const Bf16Dims& d,
                            const float* gamma, const float* beta, double eps, bool relu, float* mean, float* var,
                            int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_forward");
  const int64_t C = d.channels;
  threads = std::max(1, threads);
  const bool vec = use_vector(isa);
  // Deviations from image 0's first pixel: a value of the batch, so Σ(x − centre) stays near the spread.
  std::vector<float> centre(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c)
    centre[c] = bf16_portable::bf16_to_float(x[d.blocked ? c / 16 * d.spatial * 16 + c % 16 : c]);
  ThreadSums sums(C, threads);
  each_piece(d, threads, [&](int t, const Piece& p, float* acc) {
    double* sum = sums.of(t) + p.c0;
    float* a = acc + p.c0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec)
      return bf16_avx512::statistics(x + p.offset, p.width, p.r0, p.r1, centre.data() + p.c0, a, a + C, sum, sum + C);
#endif
    (void)vec;
    bf16_portable::statistics(x + p.offset, p.width, p.r0, p.r1, centre.data() + p.c0, a, a + C, sum, sum + C);
  });
  const auto n = static_cast<double>(d.rows());
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, q = 0;
    for (int t = 0; t < threads; ++t) s += sums.of(t)[c], q += sums.of(t)[C + c];
    const double dm = s / n;
    mean[c] = static_cast<float>(centre[c] + dm);
    var[c] = static_cast<float>(std::max(0.0, q / n - dm * dm));
  }
  normalize_all(x, identity, y, d, batchnorm_bf16_coefficients(gamma, beta, mean, var, C, eps), relu, threads, isa);
}

void batchnorm_bf16_recompute(const uint16_t* x, uint16_t* y, const Bf16Dims& d, const float* gamma, const float* beta,
                              const float* mean, const float* var, double eps, bool relu, int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_recompute");
  normalize_all(x, nullptr, y, d, batchnorm_bf16_coefficients(gamma, beta, mean, var, d.channels, eps), relu, threads,
                isa);
}

void batchnorm_bf16_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, const Bf16Dims& d,
                             const float* gamma, const float* beta, const float* mean, const float* var, double eps,
                             bool relu, float* dgamma, float* dbeta, int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_backward");
  const int64_t C = d.channels;
  threads = std::max(1, threads);
  const bool vec = use_vector(isa);
  const Bf16BatchNormCoefficients co = batchnorm_bf16_coefficients(gamma, beta, mean, var, C, eps);
  ThreadSums sums(C, threads);
  each_piece(d, threads, [&](int t, const Piece& p, float* acc) {
    double* sum = sums.of(t) + p.c0;
    float* a = acc + p.c0;
    const float *m = mean + p.c0, *scale = co.scale.data() + p.c0, *shift = co.shift.data() + p.c0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec)
      return bf16_avx512::gradient_sums(x + p.offset, dy + p.offset, p.width, p.r0, p.r1, m, scale, shift, relu, a,
                                        a + C, sum, sum + C);
#endif
    (void)vec;
    bf16_portable::gradient_sums(x + p.offset, dy + p.offset, p.width, p.r0, p.r1, m, scale, shift, relu, a, a + C,
                                 sum, sum + C);
  });
  const auto n = static_cast<double>(d.rows());
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)), k(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    double sg = 0, sgd = 0;
    for (int t = 0; t < threads; ++t) sg += sums.of(t)[c], sgd += sums.of(t)[C + c];
    const double var_eps = static_cast<double>(var[c]) + eps, inv_std = 1.0 / std::sqrt(var_eps);
    dbeta[c] = static_cast<float>(sg);
    dgamma[c] = static_cast<float>(sgd * inv_std);
    const double scale = gamma[c] * inv_std;
    a[c] = static_cast<float>(scale);
    b[c] = static_cast<float>(-scale * sgd / (n * var_eps));
    k[c] = static_cast<float>(-scale * sg / n);
  }
  if (!dx) return;
  const bool stream = aligned32(x, dy) && aligned32(dx);
  each_piece(d, threads, [&](int, const Piece& p, float*) {
    const float *m = mean + p.c0, *scale = co.scale.data() + p.c0, *shift = co.shift.data() + p.c0;
    const float *pa = a.data() + p.c0, *pb = b.data() + p.c0, *pk = k.data() + p.c0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec) {
      bf16_avx512::input_gradient(x + p.offset, dy + p.offset, dx + p.offset, p.width, p.r0, p.r1, m, scale, shift,
                                  relu, pa, pb, pk, stream);
      bf16_avx512::fence();
      return;
    }
#endif
    bf16_portable::input_gradient(x + p.offset, dy + p.offset, dx + p.offset, p.width, p.r0, p.r1, m, scale, shift,
                                  relu, pa, pb, pk, stream);
  });
}

}  // namespace cxr::dnn
