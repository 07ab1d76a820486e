// Training forward of a batchnorm2d and the residual add (+ReLU) that follows it, in one kernel
// over f32 nChw16c tensors: y = relu((x − mean)·γ/√(var + ε) + β + identity) with the batch
// statistics. Unfused, oneDNN's BN reads x twice and writes z, and the add reads z and the
// identity and writes y; here z is never written, so three passes over the block's largest
// tensor disappear. The statistics are exact two-pass ones per (image, channel block) — the
// chunk sits in L2 — merged across images in double (Chan et al.), so x is read from memory
// once for them.
#pragma once
#include <cstdint>

namespace cxr::dnn {

struct BlockedDims {
  int64_t n = 0, channels = 0, blocks = 0, spatial = 0;  // blocks = ⌈channels / 16⌉, spatial = H·W
};

// Writes the batch mean and biased variance (what oneDNN's BN backward takes) into mean[C] and
// var[C], then y. `lanes` is caller-owned room for 3·blocks·16 floats (no allocation here).
void batchnorm_add_forward(const float* x, const float* identity, float* y, const BlockedDims& d, const float* gamma,
                           const float* beta, double eps, bool relu, float* mean, float* var, float* lanes,
                           int threads);

}  // namespace cxr::dnn
