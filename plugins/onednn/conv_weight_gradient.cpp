#include "plugins/onednn/conv_weight_gradient.h"

#include <omp.h>

#include <cstdint>
#include <cstring>

namespace cxr::dnn {

using dnnl::memory;

namespace {

bool is_nhwc_bf16(const memory::desc& md) {
  return md.data.ndims == 4 && md == memory::desc(md.dims(), dt::bf16, tag::nhwc);
}

// oneDNN's AMX convolution stays for a 3×3 stride 1 on an output map of 28 or more: 362–370
// GFLOP/s there, where im2col writes 9× the input (115 MB for layer1 at batch 32) before the
// matmul. Everything else measured faster as a matmul: its conv2d backward (data + weights)
// 1.3–4.4× (ResNet-50 bf16, batch 32; the .h lists them).
bool shape_rule(const ops::Conv2dParams& p, const memory::dims& out) {
  return !(p.kernel > 1 && p.stride == 1 && out[2] >= 28 && out[3] >= 28);
}

}  // namespace

bool MatmulWeightGradient::wanted(const ops::Conv2dParams& p, const memory::desc& src_in, const memory::desc& src,
                                  const memory::desc& dst, const OnednnBackend& backend) {
  if (backend.compute_dtype() != DType::BF16 || backend.activation_tag() != tag::nhwc) return false;
  if (p.bias || src_in != src || !is_nhwc_bf16(src) || !is_nhwc_bf16(dst)) return false;
  return shape_rule(p, dst.dims());
}

MatmulWeightGradient::MatmulWeightGradient(const ops::Conv2dParams& p, const memory::desc& src,
                                           const memory::desc& dst, OnednnBackend& backend)
    : be_(&backend), name_(p.str()), k_(p.kernel), stride_(p.stride), pad_(p.padding) {
  const memory::dims s = src.dims(), d = dst.dims();
  n_ = s[0], c_ = s[1], h_ = s[2], w_ = s[3], oh_ = d[2], ow_ = d[3];
  const int64_t kout = d[1], rows = n_ * oh_ * ow_, cols = k_ * k_ * c_;
  im2col_ = !(k_ == 1 && stride_ == 1 && pad_ == 0);
  auto& eng = backend.engine();
  // dyᵀ: dy is nhwc, i.e. row-major [R, K]; its transpose [K, R] is the stride pair {1, K}.
  const memory::desc a({kout, rows}, dt::bf16, memory::dims{1, kout});
  const memory::desc b({rows, cols}, dt::bf16, memory::dims{cols, 1});
  const memory::desc c({kout, cols}, dt::f32, memory::dims{cols, 1});
  matmul_ = make_matmul(a, b, c, backend, "matmul (convolution weight gradient)", name_);
  if (im2col_) backend.reserve_activation_scratch(static_cast<size_t>(rows * cols) * 2);
  permute_ = Op();
  if (k_ > 1) {
    const memory::dims wd{kout, c_, k_, k_};
    permute_ = make_reorder(memory::desc(wd, dt::f32, tag::ohwi), memory::desc(wd, dt::f32, tag::oihw), eng, name_);
    backend.reserve_weight_scratch(static_cast<size_t>(kout * cols) * sizeof(float));
  }
}

// col[(n, oh, ow)][(i, j, c)] = x[n, oh·s − p + i, ow·s − p + j, c], or 0 outside the map. bf16
// moved as raw 16-bit words: C-long runs of the nhwc rows.
void MatmulWeightGradient::im2col(const void* src, void* col) const {
  const auto* x = static_cast<const uint16_t*>(src);
  auto* out = static_cast<uint16_t*>(col);
  const int64_t cols = k_ * k_ * c_;
  const size_t run = static_cast<size_t>(c_) * sizeof(uint16_t);
  const int threads = be_->threads() > 0 ? be_->threads() : omp_get_max_threads();
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t oh = 0; oh < oh_; ++oh)
      for (int64_t ow = 0; ow < ow_; ++ow) {
        uint16_t* row = out + ((n * oh_ + oh) * ow_ + ow) * cols;
        for (int64_t i = 0; i < k_; ++i) {
          const int64_t ih = oh * stride_ - pad_ + i;
          for (int64_t j = 0; j < k_; ++j) {
            const int64_t iw = ow * stride_ - pad_ + j;
            uint16_t* to = row + (i * k_ + j) * c_;
            if (ih < 0 || ih >= h_ || iw < 0 || iw >= w_) std::memset(to, 0, run);
            else std::memcpy(to, x + ((n * h_ + ih) * w_ + iw) * c_, run);
          }
        }
      }
}

void MatmulWeightGradient::run(const void* src, const void* dy, void* dw) {
  auto& s = be_->stream();
  const void* b = src;
  if (im2col_) {
    im2col(src, be_->activation_scratch());
    b = be_->activation_scratch();
  }
  matmul_.bind(DNNL_ARG_SRC, dy);
  matmul_.bind(DNNL_ARG_WEIGHTS, b);
  matmul_.bind(DNNL_ARG_DST, permute_ ? be_->weight_scratch() : dw);
  matmul_.bind(DNNL_ARG_SCRATCHPAD, be_->scratchpad());
  matmul_.run(s, name_);
  if (permute_) {
    permute_.bind(DNNL_ARG_FROM, be_->weight_scratch());
    permute_.bind(DNNL_ARG_TO, dw);
    permute_.run(s, name_);
  }
}

}  // namespace cxr::dnn
