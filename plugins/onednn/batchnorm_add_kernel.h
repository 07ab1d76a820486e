// Training forward of a batchnorm2d and the residual add (+ReLU) that follows it, in one kernel
// over f32 channel-blocked tensors (nChw16c, what oneDNN uses with AVX-512, or nChw8c, below it):
// y = relu((x − mean)·γ/√(var + ε) + β + identity) with the batch statistics. Unfused, oneDNN's
// BN reads x twice and writes z, and the add reads z and the identity and writes y; here z is
// never written, so three passes over the block's largest tensor disappear. The statistics are
// exact two-pass ones per (image, channel block) — the chunk sits in L2 — merged across images in
// double (Chan et al.), so x is read from memory once for them.
// The loops run on AVX2 where the CPU has it (chosen at run time), SSE2 otherwise; both sum in the
// same order, so they give the same bits.
#pragma once
#include <cstdint>

namespace cxr::dnn {

struct BlockedDims {
  int64_t n = 0, channels = 0, blocks = 0, spatial = 0;  // blocks = ⌈channels / block⌉, spatial = H·W
  int64_t block = 16;                                    // channels per block: 16 or 8
};

// The vector code the kernel runs: `best` picks AVX2 where the CPU has it; `sse2` forces the
// older path (for tests that compare the two).
enum class KernelIsa { best, sse2 };

// What `best` runs on this CPU: "avx2" or "sse2".
const char* batchnorm_add_isa();

// Writes the batch mean and biased variance (what oneDNN's BN backward takes) into mean[C] and
// var[C], then y. `lanes` is caller-owned room for 3·blocks·block floats (no allocation here).
// Throws std::invalid_argument for a block other than 8 or 16.
void batchnorm_add_forward(const float* x, const float* identity, float* y, const BlockedDims& d, const float* gamma,
                           const float* beta, double eps, bool relu, float* mean, float* var, float* lanes,
                           int threads, KernelIsa isa = KernelIsa::best);

}  // namespace cxr::dnn
