// Training batchnorm2d over bf16 activations with 16 channels innermost: nhwc, the layout the
// oneDNN backend computes bf16 in on a CPU with AMX, or nChw16c, its layout on an AVX512_BF16 CPU
// without AMX (onednn_backend.h). oneDNN 2.6's bf16 BN (bnorm_jit:avx512_core_bf16) took
// 152 ms forward and 287 ms backward of a 1327 ms ResNet-50 step (batch 32, 2 threads, AMX Xeon),
// about twice what its memory traffic costs there; these loops make the passes memory needs and
// no more:
//   forward   one read of x for the statistics, one read (+ the identity) and one streamed write
//             for y = relu?(x·scale + shift (+ identity)): the residual add and its ReLU after a
//             bottleneck's last BN are computed here, so the BN output is never written;
//   backward  one read of x and dy for Σg and Σg·(x − mean), one more and a streamed write of dx;
//             a fused ReLU's mask is z > 0 recomputed from x (no workspace kept).
// Sums: float over runs of kRun rows, of deviations from a per-channel shift (row 0's value, so
// the float sums stay small next to the variance), flushed into double per thread and merged in
// double. z = x·scale + shift is one fused multiply-add with scale and shift made once per call
// from the float statistics (batchnorm_bf16_coefficients), so the forward, the recompute and
// backward's ReLU mask agree bit for bit.
// bf16 → float is exact; float → bf16 rounds to nearest even, NaN stays NaN (quieted), denormals
// become signed zeros — vcvtneps2bf16's rules, which the portable loop copies. The vector loops
// need AVX512_BF16 (every CPU the bf16 path runs on has it); elsewhere the portable loops run,
// which add in the same order and give the same bits.
#pragma once
#include <cstdint>
#include <vector>

namespace cxr::dnn {

// N images of H·W = `spatial` pixels of `channels` values: nhwc (n, hw, c), or with `blocked`
// nChw16c (n, c / 16, hw, c % 16). Batch statistics run over rows() = N·H·W values per channel.
struct Bf16Dims {
  int64_t n = 0, channels = 0, spatial = 0;
  bool blocked = false;
  int64_t rows() const { return n * spatial; }
};

// The loops `best` runs: "avx512_bf16" where the CPU has it, else "portable".
const char* batchnorm_bf16_isa();
enum class Bf16Isa { best, portable };

// Whether these loops take the shape (channels a multiple of 16, at least one row).
// Work splits over threads by rows (nhwc) or by (image, channel block) planes (nChw16c), the same
// split whichever loops run.
bool batchnorm_bf16_supports(const Bf16Dims& d);

// scale = γ/√(var + ε) and shift = β − mean·scale, per channel, in float: z = x·scale + shift.
struct Bf16BatchNormCoefficients {
  std::vector<float> scale, shift;
};
Bf16BatchNormCoefficients batchnorm_bf16_coefficients(const float* gamma, const float* beta, const float* mean,
                                                      const float* var, int64_t channels, double eps);

// Batch mean and biased variance into mean[C] and var[C] (what backward and the running
// statistics take), then y = x·scale + shift, + identity when it is not null, ReLU when relu.
void batchnorm_bf16_forward(const uint16_t* x, const uint16_t* identity, uint16_t* y, const Bf16Dims& d,
                            const float* gamma, const float* beta, double eps, bool relu, float* mean, float* var,
                            int threads, Bf16Isa isa = Bf16Isa::best);

// y again from the statistics a forward saved (no identity): the forward's bits.
void batchnorm_bf16_recompute(const uint16_t* x, uint16_t* y, const Bf16Dims& d, const float* gamma, const float* beta,
                              const float* mean, const float* var, double eps, bool relu, int threads,
                              Bf16Isa isa = Bf16Isa::best);

// dβ = Σg and dγ = Σg·(x − mean)/σ, g = dy (where z > 0 when relu); dx when it is not null:
// (γ/σ)·(g − Σg/n − (x − mean)·Σg·(x − mean)/(n·σ²)).
void batchnorm_bf16_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, const Bf16Dims& d,
                             const float* gamma, const float* beta, const float* mean, const float* var, double eps,
                             bool relu, float* dgamma, float* dbeta, int threads, Bf16Isa isa = Bf16Isa::best);

}  // namespace cxr::dnn
