// 16 float lanes over bf16 data, twice: bf16_portable (an array; any CPU) and bf16_avx512 (one
// zmm; compiled for AVX512_BF16 under `#pragma GCC target`, run only where
// cpu_has_avx512_bf16()). Loops written once over these operations and instantiated in both
// namespaces (batchnorm_bf16_loops.inc) give the same bits: every lane rounds alike, and
// float → bf16 follows vcvtneps2bf16 in both (round to nearest even, NaN quieted, denormals to
// signed zero).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CXR_HAVE_AVX512_BF16_PATH 1
#endif

namespace cxr::dnn {

// Whether this CPU runs bf16_avx512.
inline bool cpu_has_avx512_bf16() {
#if defined(CXR_HAVE_AVX512_BF16_PATH)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  return has;
#else
  return false;
#endif
}

// ---- portable: 16 float lanes in an array (the compiler vectorises what it can) ----
namespace bf16_portable {

struct Vec {
  float l[16];
};

inline float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// vcvtneps2bf16's rules: NaN quieted, denormals to signed zero, else round to nearest even.
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline Vec load_bf16(const uint16_t* p) {
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = bf16_to_float(p[i]);
  return v;
}
inline Vec load(const float* p) {
  Vec v;
  std::memcpy(v.l, p, sizeof v.l);
  return v;
}
inline void store(float* p, const Vec& v) { std::memcpy(p, v.l, sizeof v.l); }
inline Vec zero() { return Vec{}; }
inline Vec add(const Vec& a, const Vec& b) {
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = a.l[i] + b.l[i];
  return v;
}
inline Vec sub(const Vec& a, const Vec& b) {
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = a.l[i] - b.l[i];
  return v;
}
inline Vec fma(const Vec& a, const Vec& b, const Vec& c) {
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = std::fma(a.l[i], b.l[i], c.l[i]);
  return v;
}
inline Vec relu_of(const Vec& a) {  // max(0, a) keeping NaN, like vmaxps(0, a)
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = a.l[i] > 0.f || a.l[i] != a.l[i] ? a.l[i] : 0.f;
  return v;
}
inline Vec where_positive(const Vec& z, const Vec& g) {
  Vec v;
  for (int i = 0; i < 16; ++i) v.l[i] = z.l[i] > 0.f ? g.l[i] : 0.f;
  return v;
}
inline void store_bf16(uint16_t* p, const Vec& v, bool) {
  for (int i = 0; i < 16; ++i) p[i] = float_to_bf16(v.l[i]);
}
inline void prefetch(const void*) {}
inline void fence() {}

}  // namespace bf16_portable

// ---- AVX512_BF16: one zmm ----
#if defined(CXR_HAVE_AVX512_BF16_PATH)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16")  // as cpu_has_avx512_bf16() checks
// GCC 12 warns inside its own _mm512_undefined_* (a self-initialised variable).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace bf16_avx512 {

using Vec = __m512;
inline Vec load_bf16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
inline Vec load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec zero() { return _mm512_setzero_ps(); }
inline Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec relu_of(Vec a) { return _mm512_max_ps(_mm512_setzero_ps(), a); }  // vmaxps returns a on NaN
inline Vec where_positive(Vec z, Vec g) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), g);
}
inline void store_bf16(uint16_t* p, Vec v, bool stream) {
  const __m256i h = (__m256i)_mm512_cvtneps_pbh(v);
  if (stream)
    _mm256_stream_si256(reinterpret_cast<__m256i*>(p), h);
  else
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), h);
}
inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
inline void fence() { _mm_sfence(); }  // streamed stores are weakly ordered: each thread fences its own

}  // namespace bf16_avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

}  // namespace cxr::dnn
