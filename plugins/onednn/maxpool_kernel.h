// Max pooling (forward, and backward through the saved argmax) over activations whose channels are
// innermost: nhwc, or a channel-blocked nChw16c / nChw8c without padded channels. oneDNN 2.6's
// pooling took 9.6 ms forward and 11.7 ms backward for ResNet's stem pool on bf16 nhwc (batch 32,
// 64×112×112 → 56×56, 2 threads, AMX Xeon family 6 model 167), 3–4× what its memory traffic costs
// there; these loops read and write each tensor once. In the network (`cxrtune bench --profile`,
// same machine): f32 nChw16c forward 11.3 → 6.3 ms, backward 11.0 → 11.2; bf16 nhwc forward
// 9.9 → 5.2, backward 11.6 → 13.3 (its argmax widening and rounding cost more than oneDNN's
// scatter there, and oneDNN's backward cannot read these loops' argmax).
//
// PyTorch's rules, so the gradients are its gradients: a window's maximum is its first value in
// row-major tap order that is greater than every earlier one, or NaN (a NaN wins, the last one
// seen); padding never wins; a window of only −inf reports its first real tap. The output is
// that value itself (bf16 stays bf16 bits: a maximum needs no rounding).
// Backward gathers: each input pixel sums, in float, the output gradients of the windows whose
// argmax it is, in ascending (oh, ow) order — the order PyTorch's scatter adds them in, so f32
// gives its bits; bf16 rounds the float sum once (round to nearest even, as bf16_lanes.h).
// Every pixel of dx is written (no zeroing pass first).
// The loops (maxpool_loops.inc) are compiled for AVX-512, AVX2 and plain x86-64 and give the same
// bits on each: comparisons and one float sum in a fixed order have one answer.
#pragma once
#include <cstdint>

namespace cxr::dnn {

// `planes` independent [h][w][block] arrays: nhwc is N planes of block = C; nChwXc is N·C/X
// planes of block = X. Output [planes][oh][ow][block], argmax likewise (one byte each: the
// window tap kh·kernel + kw).
struct MaxPoolGeometry {
  int64_t planes = 0, block = 0, h = 0, w = 0, oh = 0, ow = 0;
  int64_t kernel = 0, stride = 0, padding = 0;
};

// Kernel ≤ 15 (taps fit a byte), stride ≥ 1, padding < kernel (every window holds a real pixel:
// PyTorch requires padding ≤ kernel / 2), output sizes what those give (floor mode).
bool maxpool_kernel_supports(const MaxPoolGeometry& g);

// The loops `best` runs here: "avx512", "avx2" or "portable" (tests pin the others, which must give the same bits).
enum class MaxPoolIsa { best, avx2, portable };
const char* maxpool_kernel_isa();

// y = the windows' maxima; argmax (may be null: eval) = their taps.
void maxpool_forward(const float* x, float* y, uint8_t* argmax, const MaxPoolGeometry& g, int threads,
                     MaxPoolIsa isa = MaxPoolIsa::best);
void maxpool_forward(const uint16_t* x, uint16_t* y, uint8_t* argmax, const MaxPoolGeometry& g, int threads,
                     MaxPoolIsa isa = MaxPoolIsa::best);

// dx (OVERWRITTEN) from dy and the forward's argmax.
void maxpool_backward(const uint8_t* argmax, const float* dy, float* dx, const MaxPoolGeometry& g, int threads,
                      MaxPoolIsa isa = MaxPoolIsa::best);
void maxpool_backward(const uint8_t* argmax, const uint16_t* dy, uint16_t* dx, const MaxPoolGeometry& g,
                      int threads, MaxPoolIsa isa = MaxPoolIsa::best);

}  // namespace cxr::dnn
