#include "plugins/onednn/conv_data_gradient.h"

#include <omp.h>

#include <cstring>

namespace cxr::dnn {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

bool MatmulDataGradient::wanted(const ops::Conv2dParams& p, const memory::desc& src_in, const memory::desc& src,
                                const memory::desc& dst, const OnednnBackend& backend) {
  if (backend.compute_dtype() != DType::BF16 || backend.activation_tag() != tag::nhwc) return false;
  if (p.kernel != 1 || p.padding != 0 || src_in != src) return false;
  const auto nhwc_bf16 = [](const memory::desc& md) {
    return md.data.ndims == 4 && md == memory::desc(md.dims(), dt::bf16, tag::nhwc);
  };
  return nhwc_bf16(src) && nhwc_bf16(dst);
}

MatmulDataGradient::MatmulDataGradient(const ops::Conv2dParams& p, const memory::desc& src, const memory::desc& dst,
                                       OnednnBackend& backend)
    : be_(&backend), name_(p.str()) {
  const memory::dims s = src.dims(), d = dst.dims();
  n_ = s[0], c_ = s[1], h_ = s[2], w_ = s[3], stride_ = p.stride, oh_ = d[2], ow_ = d[3];
  const int64_t rows = n_ * oh_ * ow_, c = c_, k = d[1];
  auto& eng = backend.engine();
  const memory::dims wd{k, c, 1, 1};
  to_bf16_ = make_reorder(memory::desc(wd, dt::f32, tag::oihw), memory::desc(wd, dt::bf16, tag::oihw), eng, name_);
  backend.reserve_weight_scratch(static_cast<size_t>(k * c) * 2);
  const memory::desc a({rows, k}, dt::bf16, memory::dims{k, 1});
  const memory::desc b({k, c}, dt::bf16, memory::dims{c, 1});
  const memory::desc out({rows, c}, dt::bf16, memory::dims{c, 1});
  matmul_ = make_matmul(a, b, out, backend, "matmul (convolution input gradient)", name_);
  if (stride_ > 1) backend.reserve_activation_scratch(static_cast<size_t>(rows * c) * 2);
}

void MatmulDataGradient::run(const void* weights, const void* dy, void* dx) {
  auto& s = be_->stream();
  to_bf16_.bind(DNNL_ARG_FROM, weights);
  to_bf16_.bind(DNNL_ARG_TO, be_->weight_scratch());
  to_bf16_.run(s, name_);
  matmul_.bind(DNNL_ARG_SRC, dy);
  matmul_.bind(DNNL_ARG_WEIGHTS, be_->weight_scratch());
  matmul_.bind(DNNL_ARG_DST, stride_ > 1 ? be_->activation_scratch() : dx);
  matmul_.bind(DNNL_ARG_SCRATCHPAD, be_->scratchpad());
  matmul_.run(s, name_);
  if (stride_ > 1) scatter(dx);
}

void MatmulDataGradient::scatter(void* dx) const {
  const auto* compact = static_cast<const uint16_t*>(be_->activation_scratch());
  auto* out = static_cast<uint16_t*>(dx);
  const int64_t rows = n_ * h_;
  const auto pixel = static_cast<size_t>(c_) * sizeof(uint16_t);
#pragma omp parallel for schedule(static) num_threads(be_->threads())
  for (int64_t nh = 0; nh < rows; ++nh) {
    const int64_t n = nh / h_, h = nh % h_;
    uint16_t* row = out + nh * w_ * c_;
    if (h % stride_ != 0) {  // a row the convolution never read
      std::memset(row, 0, static_cast<size_t>(w_) * pixel);
      continue;
    }
    const uint16_t* from = compact + (n * oh_ + h / stride_) * ow_ * c_;
    for (int64_t x = 0; x < w_; ++x) {
      if (x % stride_ == 0) std::memcpy(row + x * c_, from + (x / stride_) * c_, pixel);
      else std::memset(row + x * c_, 0, pixel);
    }
  }
}

}  // namespace cxr::dnn
