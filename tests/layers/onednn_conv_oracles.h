// What the oneDNN convolution-gradient tests share: seeded normal data, the relative L2 error
// against a float64 reference, and oneDNN's own convolution backward data run on the test's
// bf16 memory (the second, independent reference for cxrtune's own input-gradient paths).
#pragma once
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/onednn_backend.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::conv_oracles {

inline std::vector<float> normal_values(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(gen);
  return v;
}

// ‖got − want‖ / ‖want‖; infinity when got holds a NaN or an infinity.
inline double relative_error(const float* got, const std::vector<double>& want) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    diff += d * d;
    norm += want[i] * want[i];
  }
  return std::isfinite(diff) ? std::sqrt(diff / norm) : std::numeric_limits<double>::infinity();
}

// dx (plain nchw floats) by oneDNN's convolution backward data for `p`, from the f32 OIHW
// `weights` and `dy` (laid out as dst_md); `impl` gets the kernel's name.
inline std::vector<float> onednn_backward_data(OnednnBackend& be, const ops::Conv2dParams& p, const TensorDesc& in,
                                               const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
                                               const Tensor& weights, const Tensor& dy, std::string& impl) {
  using dnnl::memory;
  auto& eng = be.engine();
  const memory::dims wd = dnn::dims_of(p.weight_shape());
  const memory::desc w_md(wd, memory::data_type::bf16, memory::format_tag::any);
  const memory::dims st{p.stride, p.stride}, pad{p.padding, p.padding};
  const auto alg = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src_md, w_md, dst_md, st, pad, pad), eng);
  const dnnl::convolution_backward_data::primitive_desc bd(
      dnnl::convolution_backward_data::desc(alg, src_md, w_md, dst_md, st, pad, pad), eng, fwd);
  memory plain_w(memory::desc(wd, memory::data_type::f32, memory::format_tag::oihw), eng,
                 const_cast<void*>(weights.data()));
  memory mw(bd.weights_desc(), eng), mdy(dst_md, eng, const_cast<void*>(dy.data()));
  Tensor dx = be.allocate(in);
  memory mdx(src_md, eng, dx.data());
  dnnl::reorder(plain_w, mw).execute(be.stream(), plain_w, mw);
  dnnl::convolution_backward_data(bd).execute(
      be.stream(), {{DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mdx}});
  be.stream().wait();
  std::vector<float> out(static_cast<size_t>(numel(in.shape)));
  be.read_plain(dx, out.data());
  impl = bd.impl_info_str();
  return out;
}

}  // namespace cxr::conv_oracles
