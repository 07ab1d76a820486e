#include "plugins/onednn/batchnorm_bf16_kernel.h"

#include "plugins/onednn/bf16_lanes.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
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

bool use_vector(Bf16Isa isa) { return isa == Bf16Isa::best && cpu_has_avx512_bf16(); }

void check(const NhwcDims& d, const char* what) {
  if (!batchnorm_bf16_supports(d))
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(d.rows) + " rows of " +
                                std::to_string(d.channels) + " channels (a multiple of 16 expected)");
}

bool aligned32(const void* a, const void* b = nullptr) {
  return ((reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b)) & 31) == 0;
}

// Thread t's rows of [0, rows): contiguous, the same split whichever loops run.
std::pair<int64_t, int64_t> rows_of(int64_t rows, int t, int threads) {
  return {rows * t / threads, rows * (t + 1) / threads};
}

// Runs body(t, r0, r1, scratch) on `threads` threads; scratch: 2·C floats per thread, each
// thread's on cache lines of its own (the accumulators are written every row: a line shared by
// two threads ran the statistics 3x slower).
template <class Body>
void each_thread(const NhwcDims& d, int threads, Body body) {
  threads = std::max(1, threads);
  constexpr int64_t kLine = 16;  // floats per cache line
  const int64_t stride = (2 * d.channels + kLine - 1) / kLine * kLine;
  std::vector<float> scratch(static_cast<size_t>(stride * threads + kLine));
  float* base = scratch.data() + (kLine - reinterpret_cast<uintptr_t>(scratch.data()) / sizeof(float) % kLine) % kLine;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    // A smaller team than asked does every share itself, in the same split.
    for (int share = t; share < threads; share += team) {
      const auto [r0, r1] = rows_of(d.rows, share, threads);
      body(share, r0, r1, base + stride * share);
    }
  }
}

// Per-thread double sums [Σa (C), Σb (C)], each thread's on cache lines of its own.
struct ThreadSums {
  int64_t channels, stride;
  std::vector<double> v;
  ThreadSums(int64_t c, int threads) : channels(c), stride((2 * c + 7) / 8 * 8), v(static_cast<size_t>(stride * threads + 8)) {}
  double* of(int t) { return v.data() + stride * t; }
};

void normalize_all(const uint16_t* x, const uint16_t* identity, uint16_t* y, const NhwcDims& d,
                   const Bf16BatchNormCoefficients& co, bool relu, int threads, Bf16Isa isa) {
  const bool vec = use_vector(isa), stream = aligned32(x, y) && (!identity || aligned32(identity));
  each_thread(d, threads, [&](int, int64_t r0, int64_t r1, float*) {
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec) {
      bf16_avx512::normalize(x, identity, y, d.channels, r0, r1, co.scale.data(), co.shift.data(), relu, stream);
      bf16_avx512::fence();
      return;
    }
#endif
    (void)vec;
    bf16_portable::normalize(x, identity, y, d.channels, r0, r1, co.scale.data(), co.shift.data(), relu, stream);
  });
}

}  // namespace

const char* batchnorm_bf16_isa() { return cpu_has_avx512_bf16() ? "avx512_bf16" : "portable"; }

bool batchnorm_bf16_supports(const NhwcDims& d) { return d.rows > 0 && d.channels > 0 && d.channels % 16 == 0; }

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

void batchnorm_bf16_forward(const uint16_t* x, const uint16_t* identity, uint16_t* y, const NhwcDims& d,
                            const float* gamma, const float* beta, double eps, bool relu, float* mean, float* var,
                            int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_forward");
  const int64_t C = d.channels;
  threads = std::max(1, threads);
  const bool vec = use_vector(isa);
  // Deviations from row 0: a value of the batch, so Σ(x − centre) stays near the spread.
  std::vector<float> centre(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) centre[c] = bf16_portable::bf16_to_float(x[c]);
  ThreadSums sums(C, threads);
  each_thread(d, threads, [&](int t, int64_t r0, int64_t r1, float* acc) {
    double* sum = sums.of(t);
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec) return bf16_avx512::statistics(x, C, r0, r1, centre.data(), acc, acc + C, sum, sum + C);
#endif
    (void)vec;
    bf16_portable::statistics(x, C, r0, r1, centre.data(), acc, acc + C, sum, sum + C);
  });
  const auto n = static_cast<double>(d.rows);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, q = 0;
    for (int t = 0; t < threads; ++t) s += sums.of(t)[c], q += sums.of(t)[C + c];
    const double dm = s / n;
    mean[c] = static_cast<float>(centre[c] + dm);
    var[c] = static_cast<float>(std::max(0.0, q / n - dm * dm));
  }
  normalize_all(x, identity, y, d, batchnorm_bf16_coefficients(gamma, beta, mean, var, C, eps), relu, threads, isa);
}

void batchnorm_bf16_recompute(const uint16_t* x, uint16_t* y, const NhwcDims& d, const float* gamma, const float* beta,
                              const float* mean, const float* var, double eps, bool relu, int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_recompute");
  normalize_all(x, nullptr, y, d, batchnorm_bf16_coefficients(gamma, beta, mean, var, d.channels, eps), relu, threads,
                isa);
}

void batchnorm_bf16_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, const NhwcDims& d,
                             const float* gamma, const float* beta, const float* mean, const float* var, double eps,
                             bool relu, float* dgamma, float* dbeta, int threads, Bf16Isa isa) {
  check(d, "batchnorm_bf16_backward");
  const int64_t C = d.channels;
  threads = std::max(1, threads);
  const bool vec = use_vector(isa);
  const Bf16BatchNormCoefficients co = batchnorm_bf16_coefficients(gamma, beta, mean, var, C, eps);
  ThreadSums sums(C, threads);
  each_thread(d, threads, [&](int t, int64_t r0, int64_t r1, float* acc) {
    double* sum = sums.of(t);
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec)
      return bf16_avx512::gradient_sums(x, dy, C, r0, r1, mean, co.scale.data(), co.shift.data(), relu, acc, acc + C, sum,
                                   sum + C);
#endif
    (void)vec;
    bf16_portable::gradient_sums(x, dy, C, r0, r1, mean, co.scale.data(), co.shift.data(), relu, acc, acc + C, sum,
                            sum + C);
  });
  const auto n = static_cast<double>(d.rows);
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
  each_thread(d, threads, [&](int, int64_t r0, int64_t r1, float*) {
#if defined(CXR_HAVE_AVX512_BF16_PATH)
    if (vec) {
      bf16_avx512::input_gradient(x, dy, dx, C, r0, r1, mean, co.scale.data(), co.shift.data(), relu, a.data(), b.data(),
                             k.data(), stream);
      bf16_avx512::fence();
      return;
    }
#endif
    bf16_portable::input_gradient(x, dy, dx, C, r0, r1, mean, co.scale.data(), co.shift.data(), relu, a.data(), b.data(),
                             k.data(), stream);
  });
}

}  // namespace cxr::dnn
