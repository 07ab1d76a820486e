// The two passes of the residual add in training, as plain f32 loops over whole buffers (any
// layout: both operands share it, and padding lanes hold zeros that stay zeros). oneDNN's binary
// and eltwise-backward primitives write through the cache, so each output line is first read
// from memory (write-allocate); these stream their output past the cache instead, one memory
// stream in four or five less. Both are bound by memory bandwidth, not arithmetic.
#pragma once
#include <cstdint>

namespace cxr::dnn {

// max(0, s), but a NaN stays NaN (as in oneDNN's ReLU, and in `maxps(0, s)`): the scalar tails.
inline float relu_keeping_nan(float s) { return s > 0.f || s != s ? s : 0.f; }

// out = a + b, then max(0, ·) when `relu` (a NaN stays NaN, as in oneDNN's ReLU).
void residual_add(const float* a, const float* b, float* out, int64_t n, bool relu, int threads);

// out = dy + dy_partial, zero where y <= 0 when `relu` (y: the add's ReLU output, which is
// never negative): the add's backward when its output gradient has two writers.
void residual_add_backward(const float* dy, const float* dy_partial, const float* y, float* out, int64_t n,
                           bool relu, int threads);

// The same two passes over bf16 buffers (bf16 activations): summed in float and rounded once to
// bf16 (to nearest even, as oneDNN's binary add does), streamed where the buffers are 32-byte
// aligned; AVX512_BF16 where the CPU has it (every CPU bf16 runs on), else bf16_lanes.h's
// portable rounding, the same bits.
void residual_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t n, bool relu, int threads);
void residual_add_backward_bf16(const uint16_t* dy, const uint16_t* dy_partial, const uint16_t* y, uint16_t* out,
                                int64_t n, bool relu, int threads);

}  // namespace cxr::dnn
