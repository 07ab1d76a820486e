#include "plugins/onednn/batchnorm_sync.h"

#include <cmath>

namespace cxr::dnn {
namespace {

// Calls f(offset, channel) for every real element, in memory order of (n, channel block, h, w,
// lane); pad(offset) for the padded lanes of the last block.
template <class F, class P>
void for_each_element(const ChannelLayout& l, F&& f, P&& pad) {
  const int64_t blocks = l.blocks();
  for (int64_t n = 0; n < l.n; ++n)
    for (int64_t cb = 0; cb < blocks; ++cb)
      for (int64_t h = 0; h < l.h; ++h)
        for (int64_t w = 0; w < l.w; ++w) {
          const int64_t base = l.offset0 + n * l.stride[0] + cb * l.stride[1] + h * l.stride[2] + w * l.stride[3];
          for (int64_t lane = 0; lane < l.block; ++lane) {
            const int64_t c = cb * l.block + lane;
            if (c < l.c)
              f(base + lane, c);
            else
              pad(base + lane);
          }
        }
}

// The one normalisation expression (see the header): every caller gets the same bits.
inline float normalized(float x, double scale, double shift) {
  volatile double product = x * scale;  // no contraction into an FMA in one caller and not another
  return static_cast<float>(product + shift);
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
  if (b.inner_nblks == 1 && b.inner_idxs[0] == 1) {
    l.block = b.inner_blks[0];
  } else if (b.inner_nblks != 0) {
    l.unsupported = "a blocking other than one channel block";
    return l;
  }
  for (int i = 0; i < 4; ++i) l.stride[i] = b.strides[i];
  l.offset0 = d.offset0;
  return l;
}

void normalization_coefficients(const float* gamma, const float* beta, const std::vector<double>& mean,
                                const std::vector<double>& var, double eps, std::vector<double>& scale,
                                std::vector<double>& shift) {
  scale.resize(mean.size()), shift.resize(mean.size());
  for (size_t c = 0; c < mean.size(); ++c) {
    const double s = gamma[c] / std::sqrt(var[c] + eps);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
}

std::vector<double> local_batch_sums(const float* x, const ChannelLayout& l) {
  std::vector<double> s(static_cast<size_t>(2 * l.c + 1), 0.0);
  double* sum = s.data();
  double* sq = s.data() + l.c;
  for_each_element(
      l,
      [&](int64_t at, int64_t c) {
        const double v = x[at];
        sum[c] += v;
        sq[c] += v * v;
      },
      [](int64_t) {});
  s[static_cast<size_t>(2 * l.c)] = static_cast<double>(l.n * l.h * l.w);
  return s;
}

void normalize(const float* x, const float* identity, float* y, const ChannelLayout& l, const std::vector<double>& scale,
               const std::vector<double>& shift, bool relu) {
  for_each_element(
      l,
      [&](int64_t at, int64_t c) {
        float v = normalized(x[at], scale[static_cast<size_t>(c)], shift[static_cast<size_t>(c)]);
        if (identity) v += identity[at];
        y[at] = relu && !(v > 0.0f) ? 0.0f : v;
      },
      [&](int64_t at) { y[at] = 0.0f; });
}

std::vector<double> local_gradient_sums(const float* x, const float* dy, const ChannelLayout& l,
                                        const std::vector<double>& mean, const std::vector<double>& scale,
                                        const std::vector<double>& shift, bool relu) {
  std::vector<double> s(static_cast<size_t>(2 * l.c), 0.0);
  double* sg = s.data();
  double* sgx = s.data() + l.c;
  for_each_element(
      l,
      [&](int64_t at, int64_t c) {
        const auto k = static_cast<size_t>(c);
        if (relu && !(normalized(x[at], scale[k], shift[k]) > 0.0f)) return;
        const double g = dy[at];
        sg[c] += g;
        sgx[c] += g * (static_cast<double>(x[at]) - mean[k]);
      },
      [](int64_t) {});
  return s;
}

void synced_dx(const float* x, const float* dy, float* dx, const ChannelLayout& l, const std::vector<double>& mean,
               const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& k,
               const std::vector<double>& scale, const std::vector<double>& shift, bool relu) {
  for_each_element(
      l,
      [&](int64_t at, int64_t c) {
        const auto i = static_cast<size_t>(c);
        const double g = relu && !(normalized(x[at], scale[i], shift[i]) > 0.0f) ? 0.0 : dy[at];
        dx[at] = static_cast<float>(a[i] * g + b[i] * (static_cast<double>(x[at]) - mean[i]) + k[i]);
      },
      [&](int64_t at) { dx[at] = 0.0f; });
}

}  // namespace cxr::dnn
