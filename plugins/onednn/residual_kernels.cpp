#include "plugins/onednn/residual_kernels.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cxr::dnn {
namespace {

// Non-temporal stores need 16-byte aligned output; backend buffers are 64-byte aligned, so the
// scalar loops below only ever run for unaligned views and the tails.
bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

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

}  // namespace cxr::dnn
