#include "plugins/onednn/conv_polyphase_data_gradient.h"

#include <omp.h>

#include <cstring>

#include "plugins/onednn/bf16_lanes.h"

namespace cxr::dnn {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

// The 3×3 taps of parity a (0 even, 1 odd) in the order its kernel reads dy rows i, i + 1.
constexpr int kTaps[2][2] = {{1, -1}, {2, 0}};

size_t aligned(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

bool PolyphaseDataGradient::wanted(const ops::Conv2dParams& p, const memory::desc& src_in, const memory::desc& src,
                                   const memory::desc& dst, const OnednnBackend& backend) {
  if (backend.compute_dtype() != DType::BF16 || backend.activation_tag() != tag::nhwc) return false;
  if (p.kernel != 3 || p.stride != 2 || p.padding != 1 || src_in != src) return false;
  const auto nhwc_bf16 = [](const memory::desc& md) {
    return md.data.ndims == 4 && md == memory::desc(md.dims(), dt::bf16, tag::nhwc);
  };
  return nhwc_bf16(src) && nhwc_bf16(dst);
}

PolyphaseDataGradient::PolyphaseDataGradient(const ops::Conv2dParams& p, const memory::desc& src,
                                             const memory::desc& dst, OnednnBackend& backend)
    : be_(&backend), name_(p.str()), built_(true) {
  const memory::dims s = src.dims(), d = dst.dims();
  n_ = s[0], c_ = s[1], h_ = s[2], w_ = s[3], k_ = d[1];
  const int64_t oh = d[2], ow = d[3];
  auto& eng = backend.engine();
  const std::string shapes = "dy [" + std::to_string(n_) + ", " + std::to_string(k_) + ", " + std::to_string(oh) +
                             ", " + std::to_string(ow) + "] bf16 nhwc";
  size_t plain_bytes = 0, kernel_bytes = 0, out_bytes = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      Phase& ph = phases_[static_cast<size_t>(2 * a + b)];
      ph.rows = a ? h_ / 2 : (h_ + 1) / 2;
      ph.cols = b ? w_ / 2 : (w_ + 1) / 2;
      ph.taps_h = a ? 2 : 1;
      ph.taps_w = b ? 2 : 1;
      if (ph.rows == 0 || ph.cols == 0) continue;  // a map one pixel high or wide has no odd rows or columns
      // Zero padding after the end: output size rows = OH + pad − taps + 1.
      const memory::dims pad_l{0, 0}, pad_r{ph.rows - oh + ph.taps_h - 1, ph.cols - ow + ph.taps_w - 1};
      const memory::dims kd{c_, k_, ph.taps_h, ph.taps_w};
      const memory::desc out({n_, c_, ph.rows, ph.cols}, dt::bf16, tag::nhwc);
      const auto pd = checked("convolution (polyphase input gradient)", name_, shapes, [&] {
        return dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            dst, memory::desc(kd, dt::bf16, tag::any), out, memory::dims{1, 1}, pad_l,
                                            pad_r),
            user_scratchpad(), eng);
      });
      // The cut kernels' plain layout is IOHW (K outermost), the order the weights are read in.
      const memory::desc plain(kd, dt::bf16, tag::iohw);
      ph.plain_at = plain_bytes;
      plain_bytes += aligned(plain.get_size());
      ph.kernel_at = kernel_bytes;
      kernel_bytes += aligned(pd.weights_desc().get_size());
      ph.out_at = out_bytes;
      out_bytes += aligned(out.get_size());
      ph.reorder = make_reorder(plain, pd.weights_desc(), eng, name_);
      ph.conv = Op(dnnl::convolution_forward(pd), "convolution (polyphase input gradient)");
      ph.conv.arg(DNNL_ARG_SRC, dst, eng);
      ph.conv.arg(DNNL_ARG_WEIGHTS, pd.weights_desc(), eng);
      ph.conv.arg(DNNL_ARG_DST, out, eng);
      ph.conv.arg(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc(), eng);
      backend.reserve_scratchpad(pd.scratchpad_desc().get_size());
    }
  for (Phase& ph : phases_) ph.kernel_at += plain_bytes;  // the kernels' layouts after the plain cuts
  backend.reserve_weight_scratch(plain_bytes + kernel_bytes);
  backend.reserve_activation_scratch(out_bytes);
}

void PolyphaseDataGradient::run(const float* weights, const void* dy, void* dx) {
  auto& s = be_->stream();
  auto* scratch = static_cast<char*>(be_->weight_scratch());
  auto* outs = static_cast<char*>(be_->activation_scratch());
  cut_kernels(weights);
  for (Phase& ph : phases_) {
    if (!ph.conv) continue;
    ph.reorder.bind(DNNL_ARG_FROM, scratch + ph.plain_at);
    ph.reorder.bind(DNNL_ARG_TO, scratch + ph.kernel_at);
    ph.reorder.run(s, name_);
    ph.conv.bind(DNNL_ARG_SRC, dy);
    ph.conv.bind(DNNL_ARG_WEIGHTS, scratch + ph.kernel_at);
    ph.conv.bind(DNNL_ARG_DST, outs + ph.out_at);
    ph.conv.bind(DNNL_ARG_SCRATCHPAD, be_->scratchpad());
    ph.conv.run(s, name_);
  }
  interleave(dx);
}

// V_ab[c][k][u][v] = bf16(W[k][c][kTaps[a][u]][kTaps[b][v]]), stored IOHW: one pass over the
// weights in their own order, each 3×3 read once for all four cuts.
void PolyphaseDataGradient::cut_kernels(const float* weights) const {
  auto* scratch = static_cast<char*>(be_->weight_scratch());
#pragma omp parallel for schedule(static) num_threads(be_->threads())
  for (int64_t kc = 0; kc < k_ * c_; ++kc) {
    const float* taps = weights + kc * 9;  // W[k][c], row-major 3×3
    for (size_t phase = 0; phase < phases_.size(); ++phase) {
      const Phase& ph = phases_[phase];
      if (!ph.conv) continue;
      const int* th = kTaps[phase / 2];
      const int* tw = kTaps[phase % 2];
      uint16_t* v = reinterpret_cast<uint16_t*>(scratch + ph.plain_at) + kc * ph.taps_h * ph.taps_w;
      for (int64_t u = 0; u < ph.taps_h; ++u)
        for (int64_t x = 0; x < ph.taps_w; ++x)
          v[u * ph.taps_w + x] = bf16_portable::float_to_bf16(taps[th[u] * 3 + tw[x]]);
    }
  }
}

// dx[n][h][x] = the output of parity (h % 2, x % 2) at (n, h / 2, x / 2): every pixel written once.
void PolyphaseDataGradient::interleave(void* dx) const {
  const auto* outs = static_cast<const char*>(be_->activation_scratch());
  auto* out = static_cast<uint16_t*>(dx);
  const auto pixel = static_cast<size_t>(c_) * sizeof(uint16_t);
#pragma omp parallel for schedule(static) num_threads(be_->threads())
  for (int64_t nh = 0; nh < n_ * h_; ++nh) {
    const int64_t n = nh / h_, h = nh % h_;
    uint16_t* row = out + nh * w_ * c_;
    for (int64_t x = 0; x < w_; ++x) {
      const Phase& ph = phases_[static_cast<size_t>(2 * (h % 2) + x % 2)];
      const auto* from = reinterpret_cast<const uint16_t*>(outs + ph.out_at);
      std::memcpy(row + x * c_, from + ((n * ph.rows + h / 2) * ph.cols + x / 2) * c_, pixel);
    }
  }
}

}  // namespace cxr::dnn
