#include "plugins/onednn/batchnorm_sync.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cxr::dnn {
namespace {

constexpr int64_t kMaxBlock = 64;  // channels per block the loops' per-lane accumulators hold

// Calls row(offset, block, lanes) for every run of w·(lanes) elements of one (n, channel block,
// h): element (w, lane) of the run is at offset + w·stride[3] + lane, channel block·B + lane;
// `lanes` are the block's real channels (the last block of a padded layout has fewer), and
// pad(offset) for each padded lane. Memory order, so every pass streams.
template <class Row, class Pad>
void for_each_row(const ChannelLayout& l, Row&& row, Pad&& pad) {
  const int64_t blocks = l.blocks();
  for (int64_t n = 0; n < l.n; ++n)
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const int64_t lanes = std::min(l.block, l.c - cb * l.block);
      for (int64_t h = 0; h < l.h; ++h) {
        const int64_t base = l.offset0 + n * l.stride[0] + cb * l.stride[1] + h * l.stride[2];
        row(base, cb * l.block, lanes);
        if (lanes < l.block)
          for (int64_t w = 0; w < l.w; ++w)
            for (int64_t lane = lanes; lane < l.block; ++lane) pad(base + w * l.stride[3] + lane);
      }
    }
}

// The one normalisation expression (see the header). scale is a float, so x·scale is exact in
// double and the single rounding of + shift is the same whether or not the compiler contracts
// it into an FMA: forward, recompute, replay and backward's mask agree bit for bit.
inline float normalized(float x, float scale, double shift) {
  return static_cast<float>(static_cast<double>(x) * static_cast<double>(scale) + shift);
}

// dy where the fused ReLU let z = normalized() through (z > 0), else 0. Decided on the double
// before its rounding to float (a positive double rounds to a positive float exactly when it
// exceeds 2^-150, half the smallest subnormal; the tie rounds to even, 0), and applied as a bit
// mask: the sign of z is a coin toss, and a branch on it cost ~10x these loops (measured).
inline double relu_masked(bool relu, double dy, float x, float scale, double shift) {
  if (!relu) return dy;
  const bool keep = static_cast<double>(x) * static_cast<double>(scale) + shift > 0x1p-150;
  uint64_t bits;
  std::memcpy(&bits, &dy, sizeof bits);
  bits &= -static_cast<uint64_t>(keep);
  std::memcpy(&dy, &bits, sizeof dy);
  return dy;
}

}  // namespace

ChannelLayout channel_layout_of(const dnnl::memory::desc& md) {
  ChannelLayout l;
  const dnnl_memory_desc_t& d = md.data;
  if (d.ndims != 4) {
    l.unsupported = "a " + std::to_string(d.ndims) + "-d tensor";
    return l;
  }
  l.n = d.dims[0], l.c = d.dims[1], l.h = d.dims[2], l.w = d.dims[3];
  if (d.data_type != dnnl_f32) {
    l.unsupported = "activations that are not f32 (train.precision bf16)";
    return l;
  }
  if (d.format_kind != dnnl_blocked) {
    l.unsupported = "a layout that is not a blocked one";
    return l;
  }
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  if (b.inner_nblks == 1 && b.inner_idxs[0] == 1 && b.inner_blks[0] <= kMaxBlock) {
    l.block = b.inner_blks[0];
  } else if (b.inner_nblks != 0) {
    l.unsupported = "a blocking other than one channel block of at most 64";
    return l;
  }
  for (int i = 0; i < 4; ++i) l.stride[i] = b.strides[i];
  l.offset0 = d.offset0;
  return l;
}

void normalization_coefficients(const float* gamma, const float* beta, const std::vector<double>& mean,
                                const std::vector<double>& var, double eps, std::vector<float>& scale,
                                std::vector<double>& shift) {
  scale.resize(mean.size()), shift.resize(mean.size());
  for (size_t c = 0; c < mean.size(); ++c) {
    scale[c] = static_cast<float>(gamma[c] / std::sqrt(var[c] + eps));
    shift[c] = beta[c] - mean[c] * static_cast<double>(scale[c]);
  }
}

std::vector<double> local_batch_sums(const float* x, const ChannelLayout& l) {
  std::vector<double> s(static_cast<size_t>(2 * l.c + 1), 0.0);
  double* sum = s.data();
  double* sq = s.data() + l.c;
  const int64_t sw = l.stride[3];
  for_each_row(
      l,
      [&](int64_t base, int64_t c0, int64_t lanes) {
        double a[kMaxBlock] = {}, b[kMaxBlock] = {};  // per lane; lanes innermost: contiguous, vectorised
        for (int64_t w = 0; w < l.w; ++w)
          for (int64_t lane = 0; lane < lanes; ++lane) {
            const double v = x[base + w * sw + lane];
            a[lane] += v, b[lane] += v * v;
          }
        for (int64_t lane = 0; lane < lanes; ++lane) sum[c0 + lane] += a[lane], sq[c0 + lane] += b[lane];
      },
      [](int64_t) {});
  s[static_cast<size_t>(2 * l.c)] = static_cast<double>(l.n * l.h * l.w);
  return s;
}

void normalize(const float* x, const float* identity, float* y, const ChannelLayout& l, const std::vector<float>& scale,
               const std::vector<double>& shift, bool relu) {
  const int64_t sw = l.stride[3];
  for_each_row(
      l,
      [&](int64_t base, int64_t c0, int64_t lanes) {
        for (int64_t w = 0; w < l.w; ++w) {
          const int64_t at = base + w * sw;
          for (int64_t lane = 0; lane < lanes; ++lane) {
            float v = normalized(x[at + lane], scale[static_cast<size_t>(c0 + lane)], shift[static_cast<size_t>(c0 + lane)]);
            if (identity) v += identity[at + lane];
            y[at + lane] = relu ? (v > 0.0f ? v : 0.0f) : v;  // NaN → 0, as the ReLU's mask
          }
        }
      },
      [&](int64_t at) { y[at] = 0.0f; });
}

std::vector<double> local_gradient_sums(const float* x, const float* dy, const ChannelLayout& l,
                                        const std::vector<double>& mean, const std::vector<float>& scale,
                                        const std::vector<double>& shift, bool relu) {
  std::vector<double> s(static_cast<size_t>(2 * l.c), 0.0);
  double* sg = s.data();
  double* sgx = s.data() + l.c;
  const int64_t sw = l.stride[3];
  for_each_row(
      l,
      [&](int64_t base, int64_t c0, int64_t lanes) {
        for (int64_t lane = 0; lane < lanes; ++lane) {
          const auto k = static_cast<size_t>(c0 + lane);
          const float* px = x + base + lane;
          const float* pg = dy + base + lane;
          const double m = mean[k], t = shift[k];
          const float sc = scale[k];
          double a = 0, b = 0;
          for (int64_t w = 0; w < l.w; ++w) {
            const float xv = px[w * sw];
            const double g = relu_masked(relu, pg[w * sw], xv, sc, t);
            a += g, b += g * (static_cast<double>(xv) - m);
          }
          sg[k] += a, sgx[k] += b;
        }
      },
      [](int64_t) {});
  return s;
}

void synced_dx(const float* x, const float* dy, float* dx, const ChannelLayout& l, const std::vector<double>& mean,
               const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& k,
               const std::vector<float>& scale, const std::vector<double>& shift, bool relu) {
  const int64_t sw = l.stride[3];
  for_each_row(
      l,
      [&](int64_t base, int64_t c0, int64_t lanes) {
        for (int64_t w = 0; w < l.w; ++w) {
          const int64_t at = base + w * sw;
          for (int64_t lane = 0; lane < lanes; ++lane) {
            const auto i = static_cast<size_t>(c0 + lane);
            const float xv = x[at + lane];
            const double g = relu_masked(relu, dy[at + lane], xv, scale[i], shift[i]);
            dx[at + lane] = static_cast<float>(a[i] * g + b[i] * (static_cast<double>(xv) - mean[i]) + k[i]);
          }
        }
      },
      [&](int64_t at) { dx[at] = 0.0f; });
}

}  // namespace cxr::dnn
