#include "plugins/onednn/residual_kernels.h"

#include <omp.h>

#include <cstring>

#include "plugins/onednn/bf16_lanes.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cxr::dnn {
namespace {

// Non-temporal stores need 16-byte aligned output; backend buffers are 64-byte aligned, so the
// scalar loops below only ever run for unaligned views and the tails.
bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
bool aligned32(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 31) == 0; }

#if defined(CXR_HAVE_AVX512_BF16_PATH)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16")  // as cpu_has_avx512_bf16() checks
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12, inside _mm512_undefined_*
void add_bf16_avx512(const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t i0, int64_t i1, bool relu,
                     bool stream) {
  using namespace bf16_avx512;
  for (int64_t i = i0; i < i1; i += 16) {
    const Vec s = add(load_bf16(a + i), load_bf16(b + i));
    store_bf16(out + i, relu ? relu_of(s) : s, stream);
  }
  fence();
}
void add_backward_bf16_avx512(const uint16_t* dy, const uint16_t* dy_partial, const uint16_t* y, uint16_t* out,
                              int64_t i0, int64_t i1, bool relu, bool stream) {
  using namespace bf16_avx512;
  for (int64_t i = i0; i < i1; i += 16) {
    const Vec s = add(load_bf16(dy + i), load_bf16(dy_partial + i));
    store_bf16(out + i, relu ? where_positive(load_bf16(y + i), s) : s, stream);
  }
  fence();
}
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

// Runs body(i0, i1) over 16-element-aligned shares of [0, vec_end) on `threads` threads.
template <class Body>
void split16(int64_t vec_end, int threads, Body body) {
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), team = omp_get_num_threads(), blocks = vec_end / 16;
    body(blocks * t / team * 16, blocks * (t + 1) / team * 16);
  }
}

}  // namespace

void residual_add(const float* a, const float* b, float* out, int64_t n, bool relu, int threads) {
  int64_t vec_end = 0;
#if defined(__SSE2__)
  if (aligned16(a) && aligned16(b) && aligned16(out)) {
    vec_end = n / 4 * 4;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < vec_end; i += 4) {
        __m128 s = _mm_add_ps(_mm_load_ps(a + i), _mm_load_ps(b + i));
        if (relu) s = _mm_max_ps(_mm_setzero_ps(), s);  // maxps returns its second operand on NaN
        _mm_stream_ps(out + i, s);
      }
      _mm_sfence();  // streamed stores are weakly ordered: each thread fences its own
    }
  }
#endif
  for (int64_t i = vec_end; i < n; ++i) out[i] = relu ? relu_keeping_nan(a[i] + b[i]) : a[i] + b[i];
}

void residual_add_backward(const float* dy, const float* dy_partial, const float* y, float* out, int64_t n,
                           bool relu, int threads) {
  int64_t vec_end = 0;
#if defined(__SSE2__)
  if (aligned16(dy) && aligned16(dy_partial) && aligned16(y) && aligned16(out)) {
    vec_end = n / 4 * 4;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < vec_end; i += 4) {
        __m128 s = _mm_add_ps(_mm_load_ps(dy + i), _mm_load_ps(dy_partial + i));
        if (relu) s = _mm_and_ps(s, _mm_cmpgt_ps(_mm_load_ps(y + i), _mm_setzero_ps()));
        _mm_stream_ps(out + i, s);
      }
      _mm_sfence();
    }
  }
#endif
  for (int64_t i = vec_end; i < n; ++i) {
    const float s = dy[i] + dy_partial[i];
    out[i] = !relu || y[i] > 0.f ? s : 0.f;
  }
}

void residual_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t n, bool relu, int threads) {
  using bf16_portable::bf16_to_float, bf16_portable::float_to_bf16;
  int64_t vec_end = 0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
  if (cpu_has_avx512_bf16()) {
    vec_end = n / 16 * 16;
    const bool stream = aligned32(a) && aligned32(b) && aligned32(out);
    split16(vec_end, threads, [&](int64_t i0, int64_t i1) { add_bf16_avx512(a, b, out, i0, i1, relu, stream); });
  }
#endif
  for (int64_t i = vec_end; i < n; ++i) {
    const float s = bf16_to_float(a[i]) + bf16_to_float(b[i]);
    out[i] = float_to_bf16(relu ? relu_keeping_nan(s) : s);
  }
}

void residual_add_backward_bf16(const uint16_t* dy, const uint16_t* dy_partial, const uint16_t* y, uint16_t* out,
                                int64_t n, bool relu, int threads) {
  using bf16_portable::bf16_to_float, bf16_portable::float_to_bf16;
  int64_t vec_end = 0;
#if defined(CXR_HAVE_AVX512_BF16_PATH)
  if (cpu_has_avx512_bf16()) {
    vec_end = n / 16 * 16;
    const bool stream = aligned32(dy) && aligned32(dy_partial) && aligned32(y) && aligned32(out);
    split16(vec_end, threads, [&](int64_t i0, int64_t i1) {
      add_backward_bf16_avx512(dy, dy_partial, y, out, i0, i1, relu, stream);
    });
  }
#endif
  for (int64_t i = vec_end; i < n; ++i) {
    const float s = bf16_to_float(dy[i]) + bf16_to_float(dy_partial[i]);
    out[i] = float_to_bf16(!relu || bf16_to_float(y[i]) > 0.f ? s : 0.f);
  }
}

}  // namespace cxr::dnn
