// SyncBatchNorm's math and its two collectives (train.sync_bn, issue #20), shared by the
// reference and oneDNN batchnorm2d layers; the loops over the data are theirs (each reads its own
// layout). Exactly torch.nn.SyncBatchNorm's:
// - forward: each rank's per-channel Σx and Σx² and its count (accumulated in double), ONE
//   allreduce of [Σx, Σx², count] per layer, then the global mean and biased variance
//   var = Σx²/M − mean² (M = the global count) normalise every rank's rows; the running
//   statistics move toward the mean and the unbiased variance var·M/(M − 1) of the GLOBAL count;
// - backward: each rank's per-channel Σg and Σg·(x − mean) (g = dy, masked by a fused ReLU), ONE
//   allreduce, then dx = γ/σ · (g − Σg/M − (x − mean)/σ² · Σg(x − mean)/M) with the global sums.
//
// Parameter gradients are the LOCAL sums dγ = Σ_local g·x̂, dβ = Σ_local g, and why that is right:
// rank r's loss L_r is the mean over its own n rows; the one-process loss over the whole batch is
// L = (1/N)·Σ_r L_r. A row's output after this layer affects only its own rank's loss, so g on
// rank r is ∂L_r/∂y = N·∂L/∂y. The dx above, built from every rank's g, is then N·∂L/∂x (the BN
// Jacobian couples all M rows; torch computes the same). So every rank's backward computes N·∂L
// restricted to its own rows, for every parameter upstream and downstream of every synced BN,
// and for γ and β (N·Σ_local ∂L/∂y·x̂). The gradient reducer sums the ranks' gradients and
// scales by 1/(K·N) (trainer.cpp), which yields Σ_r (rank r's part of ∂L) = ∂L exactly: no
// extra factor here. With K micro-batches per step the statistics are those of the N
// concurrent micro-batches, one per rank (as PyTorch SyncBatchNorm under DDP accumulation).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/communicator.h"

namespace cxr::ref {

// Is this context's BN group one to synchronise over (more than one rank)?
inline Communicator* sync_group(Communicator* group) { return group && group->size() > 1 ? group : nullptr; }

// `sums`: [Σx (C), Σx² (C), local count], this rank's. Allreduced in place over `group`; then
// mean[c] and the biased var[c] of the global batch. Returns the global count M.
inline double global_batch_statistics(Communicator& group, std::vector<double>& sums, int64_t channels,
                                      std::vector<double>& mean, std::vector<double>& var) {
  const auto c = static_cast<size_t>(channels);
  if (sums.size() != 2 * c + 1) throw std::logic_error("global_batch_statistics: sums of the wrong size");
  group.allreduce_sum(sums.data(), static_cast<int64_t>(sums.size()));
  const double m = sums[2 * c];
  if (!(m > 0)) throw std::logic_error("SyncBatchNorm: no rows on any rank");
  mean.resize(c), var.resize(c);
  for (size_t k = 0; k < c; ++k) {
    mean[k] = sums[k] / m;
    // Σx²/M − mean² can round below 0 for a constant channel; the variance cannot.
    var[k] = std::max(0.0, sums[c + k] / m - mean[k] * mean[k]);
  }
  return m;
}

// PyTorch's running-statistics update from the global batch: momentum toward the mean and the
// unbiased variance of the global count.
inline void update_running_statistics(float* running_mean, float* running_var, const std::vector<double>& mean,
                                      const std::vector<double>& var, double count, double momentum) {
  const double unbias = count > 1 ? count / (count - 1) : 1.0;
  for (size_t c = 0; c < mean.size(); ++c) {
    running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * var[c] * unbias);
  }
}

// `sums`: [Σg (C), Σg·(x − mean) (C)], this rank's; allreduced in place over `group` (the local
// values are returned in `local` first: dγ and dβ are the local ones).
inline void global_gradient_sums(Communicator& group, std::vector<double>& sums, std::vector<double>& local) {
  local = sums;
  group.allreduce_sum(sums.data(), static_cast<int64_t>(sums.size()));
}

// The per-channel coefficients of dx = a·g + b·(x − mean) + k from the global sums:
// a = γ/σ, b = −γ/σ · Σg(x−mean)/(M σ²), k = −γ/σ · Σg/M.
struct DxCoefficients {
  std::vector<double> a, b, k;
};
inline DxCoefficients dx_coefficients(const std::vector<double>& global_sums, const float* gamma,
                                      const std::vector<double>& var, double eps, double count) {
  const size_t c = var.size();
  DxCoefficients out;
  out.a.resize(c), out.b.resize(c), out.k.resize(c);
  for (size_t i = 0; i < c; ++i) {
    const double inv = 1.0 / std::sqrt(var[i] + eps);
    out.a[i] = gamma[i] * inv;
    out.b[i] = -out.a[i] * inv * inv * global_sums[c + i] / count;
    out.k[i] = -out.a[i] * global_sums[i] / count;
  }
  return out;
}

// Plain [N, C, H, W] rows in double (the reference layer's math).
// This rank's [Σx, Σx², count].
inline std::vector<double> local_batch_sums(const double* x, int64_t n, int64_t c, int64_t hw) {
  std::vector<double> s(static_cast<size_t>(2 * c + 1), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k) {
      const double* p = x + (i * c + k) * hw;
      double sum = 0, sq = 0;
      for (int64_t j = 0; j < hw; ++j) sum += p[j], sq += p[j] * p[j];
      s[static_cast<size_t>(k)] += sum;
      s[static_cast<size_t>(c + k)] += sq;
    }
  s[static_cast<size_t>(2 * c)] = static_cast<double>(n * hw);
  return s;
}

// g: dy where the fused ReLU let the row through (y > 0), else 0; y may be null without ReLU.
inline double masked(const double* dy, const double* y, bool relu, int64_t idx) {
  return relu && !(y[idx] > 0) ? 0.0 : dy[idx];
}

// This rank's [Σg, Σg·(x − mean)].
inline std::vector<double> local_gradient_sums(const double* x, const double* y, const double* dy, int64_t n,
                                               int64_t c, int64_t hw, const std::vector<double>& mean, bool relu) {
  std::vector<double> s(static_cast<size_t>(2 * c), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t j = 0; j < hw; ++j) {
        const int64_t idx = (i * c + k) * hw + j;
        const double g = masked(dy, y, relu, idx);
        s[static_cast<size_t>(k)] += g;
        s[static_cast<size_t>(c + k)] += g * (x[idx] - mean[static_cast<size_t>(k)]);
      }
  return s;
}

}  // namespace cxr::ref
