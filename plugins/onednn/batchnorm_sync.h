// The loops of the oneDNN batchnorm2d's SyncBatchNorm path (train.sync_bn, issue #20), over f32
// activations in the layout the layer gets: plain nchw, nhwc, or channel-blocked nChw8c/nChw16c
// (what the backend's convolutions write, onednn_backend.h). oneDNN's batch_normalization takes
// its statistics and its backward reductions from the tensor it is given (one rank's rows), so
// the synced layer computes the per-channel sums here, lets plugins/reference/batchnorm_sync.h
// allreduce them and turn them into statistics and dx coefficients, and normalises here.
// The sums are accumulated in double. Normalisation is one expression z = x·scale + shift
// (scale = γ/σ rounded to float, shift = β − mean·scale in double, per channel), written once
// (normalized()): x·scale is then exact in double, so its one rounding does not depend on FMA
// contraction, and forward, recompute, a checkpointing replay and backward's ReLU mask agree bit
// for bit. Single-threaded loops (the layer's collectives make the ranks wait for each other
// anyway); measured cost against oneDNN's BN in the README/docs/distributed.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <dnnl.hpp>

namespace cxr::dnn {

// Where element (n, c, h, w) lives: offset0 + n·s0 + (c / block)·s1 + h·s2 + w·s3 + c % block.
struct ChannelLayout {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t block = 1;  // channels innermost per block (1: no channel blocking)
  int64_t stride[4] = {0, 0, 0, 0};
  int64_t offset0 = 0;
  std::string unsupported;  // why the sync loops cannot read this layout; empty: they can
  int64_t blocks() const { return (c + block - 1) / block; }
};

// The layout of a 4-d descriptor, or `unsupported` saying why not (another type than f32, or
// blocking other than one inner block over the channels).
ChannelLayout channel_layout_of(const dnnl::memory::desc& md);

// Per-channel scale γ/σ (float) and shift β − mean·scale (double), from the statistics.
void normalization_coefficients(const float* gamma, const float* beta, const std::vector<double>& mean,
                                const std::vector<double>& var, double eps, std::vector<float>& scale,
                                std::vector<double>& shift);

// This rank's [Σx (C), Σx² (C), count].
std::vector<double> local_batch_sums(const float* x, const ChannelLayout& l);

// y = x·scale + shift (+ identity when not null, then ReLU when relu). Padded channel lanes of a
// blocked y are written 0, as oneDNN keeps them.
void normalize(const float* x, const float* identity, float* y, const ChannelLayout& l, const std::vector<float>& scale,
               const std::vector<double>& shift, bool relu);

// This rank's [Σg (C), Σg·(x − mean) (C)]; g = dy, or with `relu` dy where z = x·scale + shift > 0.
std::vector<double> local_gradient_sums(const float* x, const float* dy, const ChannelLayout& l,
                                        const std::vector<double>& mean, const std::vector<float>& scale,
                                        const std::vector<double>& shift, bool relu);

// dx = a·g + b·(x − mean) + k per channel (plugins/reference/batchnorm_sync.h's coefficients).
void synced_dx(const float* x, const float* dy, float* dx, const ChannelLayout& l, const std::vector<double>& mean,
               const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& k,
               const std::vector<float>& scale, const std::vector<double>& shift, bool relu);

}  // namespace cxr::dnn
