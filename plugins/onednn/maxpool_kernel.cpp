#include "plugins/onednn/maxpool_kernel.h"

#include <algorithm>
#include <cstring>
#include <limits>

// The vector helpers are internal (an anonymous namespace): the vector-argument ABI GCC warns about when they are
// instantiated (-Wpsabi, at the end of this file) never meets another object file.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace cxr::dnn {
namespace {

namespace maxpool_portable {
#include "plugins/onednn/maxpool_loops.inc"
}  // namespace maxpool_portable

#if defined(__x86_64__) && defined(__GNUC__)
#define CXR_MAXPOOL_VECTOR_PATHS 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace maxpool_avx2 {
#include "plugins/onednn/maxpool_loops.inc"
}  // namespace maxpool_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl")
namespace maxpool_avx512 {
#include "plugins/onednn/maxpool_loops.inc"
}  // namespace maxpool_avx512
#pragma GCC pop_options
#endif

enum class Isa { portable, avx2, avx512 };
Isa machine_isa() {
#if defined(CXR_MAXPOOL_VECTOR_PATHS)
  static const Isa isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                 __builtin_cpu_supports("avx512vl")
                             ? Isa::avx512
                         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::avx2
                                                                                           : Isa::portable;
  return isa;
#else
  return Isa::portable;
#endif
}
// What a call asks for, never more than the machine has.
Isa isa_for(MaxPoolIsa asked) {
  const Isa have = machine_isa();
  if (asked == MaxPoolIsa::portable) return Isa::portable;
  if (asked == MaxPoolIsa::avx2) return std::min(have, Isa::avx2);
  return have;
}

#if defined(CXR_MAXPOOL_VECTOR_PATHS)
#define CXR_MAXPOOL_DISPATCH(isa, call)            \
  switch (isa) {                                   \
    case Isa::avx512: return maxpool_avx512::call; \
    case Isa::avx2: return maxpool_avx2::call;     \
    case Isa::portable: break;                     \
  }                                                \
  return maxpool_portable::call
#else
#define CXR_MAXPOOL_DISPATCH(isa, call) return maxpool_portable::call
#endif

template <class T>
void forward_rows(Isa isa, const T* x, T* y, uint8_t* a, const MaxPoolGeometry& g, int64_t r0, int64_t r1) {
  CXR_MAXPOOL_DISPATCH(isa, forward_entry(x, y, a, g, r0, r1));
}
template <class T>
void backward_rows(Isa isa, const uint8_t* a, const T* dy, T* dx, const MaxPoolGeometry& g, int64_t r0, int64_t r1) {
  CXR_MAXPOOL_DISPATCH(isa, backward_entry(a, dy, dx, g, r0, r1));
}
#undef CXR_MAXPOOL_DISPATCH

// rows(r0, r1) over [0, rows) in `threads` contiguous shares.
template <class Rows>
void split_rows(int64_t rows, int threads, Rows run) {
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(rows, 1)));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) run(rows * t / threads, rows * (t + 1) / threads);
}

template <class T>
void forward_all(const T* x, T* y, uint8_t* argmax, const MaxPoolGeometry& g, int threads, MaxPoolIsa isa) {
  const Isa use = isa_for(isa);
  split_rows(g.planes * g.oh, threads, [&](int64_t r0, int64_t r1) { forward_rows(use, x, y, argmax, g, r0, r1); });
}
template <class T>
void backward_all(const uint8_t* argmax, const T* dy, T* dx, const MaxPoolGeometry& g, int threads, MaxPoolIsa isa) {
  const Isa use = isa_for(isa);
  split_rows(g.planes * g.h, threads, [&](int64_t r0, int64_t r1) { backward_rows(use, argmax, dy, dx, g, r0, r1); });
}

}  // namespace

bool maxpool_kernel_supports(const MaxPoolGeometry& g) {
  if (g.planes < 1 || g.block < 1 || g.kernel < 1 || g.kernel > 15 || g.stride < 1 || g.padding < 0 ||
      g.padding >= g.kernel || g.h < 1 || g.w < 1)
    return false;
  const auto out = [&](int64_t size) { return (size + 2 * g.padding - g.kernel) / g.stride + 1; };
  return g.oh == out(g.h) && g.ow == out(g.w) && g.oh >= 1 && g.ow >= 1;
}

const char* maxpool_kernel_isa() {
  switch (machine_isa()) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::portable: break;
  }
  return "portable";
}

void maxpool_forward(const float* x, float* y, uint8_t* argmax, const MaxPoolGeometry& g, int threads,
                     MaxPoolIsa isa) {
  forward_all(x, y, argmax, g, threads, isa);
}
void maxpool_forward(const uint16_t* x, uint16_t* y, uint8_t* argmax, const MaxPoolGeometry& g, int threads,
                     MaxPoolIsa isa) {
  forward_all(x, y, argmax, g, threads, isa);
}
void maxpool_backward(const uint8_t* argmax, const float* dy, float* dx, const MaxPoolGeometry& g, int threads,
                      MaxPoolIsa isa) {
  backward_all(argmax, dy, dx, g, threads, isa);
}
void maxpool_backward(const uint8_t* argmax, const uint16_t* dy, uint16_t* dx, const MaxPoolGeometry& g,
                      int threads, MaxPoolIsa isa) {
  backward_all(argmax, dy, dx, g, threads, isa);
}

}  // namespace cxr::dnn
