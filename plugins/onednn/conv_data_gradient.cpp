#include "plugins/onednn/conv_data_gradient.h"

namespace cxr::dnn {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

bool MatmulDataGradient::wanted(const ops::Conv2dParams& p, const memory::desc& src_in, const memory::desc& src,
                                const memory::desc& dst, const OnednnBackend& backend) {
  if (backend.compute_dtype() != DType::BF16 || backend.activation_tag() != tag::nhwc) return false;
  if (p.kernel != 1 || p.stride != 1 || p.padding != 0 || src_in != src) return false;
  const auto nhwc_bf16 = [](const memory::desc& md) {
    return md.data.ndims == 4 && md == memory::desc(md.dims(), dt::bf16, tag::nhwc);
  };
  return nhwc_bf16(src) && nhwc_bf16(dst);
}

MatmulDataGradient::MatmulDataGradient(const ops::Conv2dParams& p, const memory::desc& src, const memory::desc& dst,
                                       OnednnBackend& backend)
    : be_(&backend), name_(p.str()) {
  const memory::dims s = src.dims(), d = dst.dims();
  const int64_t rows = s[0] * s[2] * s[3], c = s[1], k = d[1];
  auto& eng = backend.engine();
  const memory::dims wd{k, c, 1, 1};
  to_bf16_ = make_reorder(memory::desc(wd, dt::f32, tag::oihw), memory::desc(wd, dt::bf16, tag::oihw), eng, name_);
  backend.reserve_weight_scratch(static_cast<size_t>(k * c) * 2);
  const memory::desc a({rows, k}, dt::bf16, memory::dims{k, 1});
  const memory::desc b({k, c}, dt::bf16, memory::dims{c, 1});
  const memory::desc out({rows, c}, dt::bf16, memory::dims{c, 1});
  matmul_ = make_matmul(a, b, out, backend, "matmul (convolution input gradient)", name_);
}

void MatmulDataGradient::run(const void* weights, const void* dy, void* dx) {
  auto& s = be_->stream();
  to_bf16_.bind(DNNL_ARG_FROM, weights);
  to_bf16_.bind(DNNL_ARG_TO, be_->weight_scratch());
  to_bf16_.run(s, name_);
  matmul_.bind(DNNL_ARG_SRC, dy);
  matmul_.bind(DNNL_ARG_WEIGHTS, be_->weight_scratch());
  matmul_.bind(DNNL_ARG_DST, dx);
  matmul_.bind(DNNL_ARG_SCRATCHPAD, be_->scratchpad());
  matmul_.run(s, name_);
}

}  // namespace cxr::dnn
