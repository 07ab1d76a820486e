// conv2d on oneDNN, in the backend's compute type (f32, or bf16 with f32 master weights and f32 weight gradients).
// The source arrives in whatever layout the previous layer produced (blocked nChw16c inside the network, plain nchw
// for the first conv) and is used as is when oneDNN has a kernel for it; the destination is the backend's activation
// layout. Weights stay plain OIHW parameters; their kernel-format copies (forward, backward data) and the weight
// gradient before its reorder to plain pass through the backend's shared weight scratch, so no layer keeps a copy of
// its own (reordering weights again costs far less than the convolution). Backward-data is not even built when no
// one wants dx (the network's first conv), which saves the slow 7×7 C=3 kernel.
// In eval a following batchnorm2d (+ReLU) is absorbed: folded into weights, bias and a post-op; then a residual add
// (+ReLU) reading it: the other summand joins as a binary post-op, so the block's output is written once instead of
// written, read twice and written again.
// bf16 on AMX in nhwc: most weight gradients are a oneDNN matmul (conv_weight_gradient.h says why), and so are the
// input gradients of 1×1 convolutions without padding (conv_data_gradient.h); those of 3×3 stride-2 ones are four
// stride-1 convolutions (conv_polyphase_data_gradient.h).
#include <cmath>
#include <optional>
#include <string>

#include "plugins/onednn/conv_data_gradient.h"
#include "plugins/onednn/conv_polyphase_data_gradient.h"
#include "plugins/onednn/conv_weight_gradient.h"
#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "engine/ops/add.h"
#include "engine/ops/conv2d.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;

class Conv2dOnednn final : public Layer {
 public:
  Conv2dOnednn(const ops::Conv2dParams& p, Backend& backend) : p_(p), be_(onednn(backend)) {
    parameters_.push_back(make_parameter(backend, "weight", p.weight_shape(), true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_channels}, false));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    bn_.reset();
    add_ = false;
    in_ = in[0];
    info_ = info;
    return build(in, info);
  }

  // Eval: folds a following batchnorm2d (and its ReLU) into this convolution. The BN layer keeps
  // its state (next.batchnorm points at it by role); forward() folds its current statistics into
  // the weights and a bias each time.
  bool absorb(const AbsorbCandidate& next) override {
    if (info_.training) return false;
    if (const auto* add = dynamic_cast<const ops::AddParams*>(&next.params)) return absorb_add(*add, next.others);
    const auto& bn = next.batchnorm;
    if (!bn || bn_ || add_ || !next.others.empty() || bn->channels != p_.out_channels) return false;
    bn_ = bn;
    be_.reserve_weight_scratch(static_cast<size_t>(numel(p_.weight_shape())) * sizeof(float));
    b_fold_ = be_.allocate(plain_desc({p_.out_channels}));
    const TensorDesc in[1] = {in_};
    build(in, info_);
    return true;
  }

  // The residual add: the other summand must arrive in this convolution's output layout.
  bool absorb_add(const ops::AddParams& add, std::span<const TensorDesc> others) {
    if (add_ || others.size() != 1) return false;
    const auto* other = dynamic_cast<const OnednnLayout*>(others[0].layout.get());
    if (!other || other->md() != dst_md_) return false;
    add_ = true;
    add_relu_ = add.fuse_relu;
    const TensorDesc in[1] = {in_};
    try {
      build(in, info_);
    } catch (const BackendError&) {  // no kernel with the binary post-op: stay unfused
      add_ = false;
      build(in, info_);
      return false;
    }
    return true;
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (bn_) fold_batchnorm();
    auto& s = be_.stream();
    const void* src = x[0]->data();
    if (src_reorder_) {
      src_reorder_.bind(DNNL_ARG_FROM, src);
      src_reorder_.bind(DNNL_ARG_TO, src_buf_.data());
      src_reorder_.run(s, p_.str());
      src = src_buf_.data();
    }
    // Folded eval weights sit at the start of the scratch, their kernel-format copy after them.
    const void* w = bn_ ? be_.weight_scratch() : parameters_[0].value.data();
    if (w_reorder_) {
      void* to = static_cast<char*>(be_.weight_scratch()) + w_fwd_offset_;
      w_reorder_.bind(DNNL_ARG_FROM, w);
      w_reorder_.bind(DNNL_ARG_TO, to);
      w_reorder_.run(s, p_.str());
      w = to;
    }
    fwd_.bind(DNNL_ARG_SRC, src);
    fwd_.bind(DNNL_ARG_WEIGHTS, w);
    if (bn_) fwd_.bind(DNNL_ARG_BIAS, b_fold_.data());
    else if (p_.bias) fwd_.bind(DNNL_ARG_BIAS, parameters_[1].value.data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    if (add_) fwd_.bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(add_post_op_) | DNNL_ARG_SRC_1, x[1]->data());
    fwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    fwd_.run(s, p_.str());
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    auto& s = be_.stream();
    if (dx[0] && matmul_dg_) {
      matmul_dg_.run(parameters_[0].value.data(), dy.data(), dx[0]->data());
    } else if (dx[0] && polyphase_dg_) {
      polyphase_dg_.run(parameters_[0].value.data_as<const float>(), dy.data(), dx[0]->data());
    } else if (dx[0]) {
      if (!bwd_data_) throw GraphError(p_.str() + ": input gradient requested but not prepared");
      const void* w = parameters_[0].value.data();
      if (w_bd_reorder_) {
        w_bd_reorder_.bind(DNNL_ARG_FROM, parameters_[0].value.data());
        w_bd_reorder_.bind(DNNL_ARG_TO, be_.weight_scratch());
        w_bd_reorder_.run(s, p_.str());
        w = be_.weight_scratch();
      }
      bwd_data_.bind(DNNL_ARG_DIFF_DST, dy.data());
      bwd_data_.bind(DNNL_ARG_WEIGHTS, w);
      bwd_data_.bind(DNNL_ARG_DIFF_SRC, src_reorder_ ? dsrc_buf_.data() : dx[0]->data());
      bwd_data_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
      bwd_data_.run(s, p_.str());
      if (src_reorder_) {
        dsrc_reorder_.bind(DNNL_ARG_FROM, dsrc_buf_.data());
        dsrc_reorder_.bind(DNNL_ARG_TO, dx[0]->data());
        dsrc_reorder_.run(s, p_.str());
      }
    }
    const void* bw_src = src_reorder_ ? src_buf_.data() : x[0]->data();
    const void* bw_dy = dy.data();
    if (matmul_wg_) return matmul_wg_.run(bw_src, bw_dy, parameters_[0].grad.data());
    if (bw_src_reorder_) {  // the weight gradient's own layout (weight_gradient_layout says why)
      auto* transit = static_cast<char*>(be_.activation_scratch());
      bw_src_reorder_.bind(DNNL_ARG_FROM, bw_src);
      bw_src_reorder_.bind(DNNL_ARG_TO, transit);
      bw_src_reorder_.run(s, p_.str());
      bw_dy_reorder_.bind(DNNL_ARG_FROM, bw_dy);
      bw_dy_reorder_.bind(DNNL_ARG_TO, transit + bw_dy_offset_);
      bw_dy_reorder_.run(s, p_.str());
      bw_src = transit;
      bw_dy = transit + bw_dy_offset_;
    }
    bwd_weights_.bind(DNNL_ARG_SRC, bw_src);
    bwd_weights_.bind(DNNL_ARG_DIFF_DST, bw_dy);
    bwd_weights_.bind(DNNL_ARG_DIFF_WEIGHTS, dw_reorder_ ? be_.weight_scratch() : parameters_[0].grad.data());
    if (p_.bias) bwd_weights_.bind(DNNL_ARG_DIFF_BIAS, parameters_[1].grad.data());
    bwd_weights_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    bwd_weights_.run(s, p_.str());
    if (dw_reorder_) {
      dw_reorder_.bind(DNNL_ARG_FROM, be_.weight_scratch());
      dw_reorder_.bind(DNNL_ARG_TO, parameters_[0].grad.data());
      dw_reorder_.run(s, p_.str());
    }
  }

  bool backward_reads_input(size_t) const override { return !src_reorder_; }
  bool backward_reads_output() const override { return false; }

 private:
  // scale = γ / sqrt(var + eps): w' = w · scale (per output channel), b' = β + (b − mean) · scale,
  // in double as the reference does, rounded once.
  void fold_batchnorm() {
    const float* gamma = bn_->weight->data_as<const float>();
    const float* beta = bn_->bias->data_as<const float>();
    const float* mean = bn_->running_mean->data_as<const float>();
    const float* var = bn_->running_var->data_as<const float>();
    const float* w = parameters_[0].value.data_as<const float>();
    const float* b = p_.bias ? parameters_[1].value.data_as<const float>() : nullptr;
    auto* wf = static_cast<float*>(be_.weight_scratch());
    float* bf = b_fold_.data_as<float>();
    const int64_t per_out = numel(p_.weight_shape()) / p_.out_channels;
    for (int64_t o = 0; o < p_.out_channels; ++o) {
      const double scale = gamma[o] / std::sqrt(static_cast<double>(var[o]) + bn_->eps);
      for (int64_t k = 0; k < per_out; ++k) wf[o * per_out + k] = static_cast<float>(w[o * per_out + k] * scale);
      bf[o] = static_cast<float>(beta[o] + ((b ? b[o] : 0.0) - mean[o]) * scale);
    }
  }

  // The layout the weight gradient should read its two inputs in, when not the one they arrive
  // in (`impl`: what oneDNN picked for that one; `out`: the output shape):
  // - reference loops ("ref"): below AVX-512, oneDNN 2.6 has no jit weight gradient for some
  //   blocked shapes (3x3 on a 1x1 or 2x2 map: layer4 of a 32-64 px input) and runs them, ~2.4 s
  //   for one 512-channel layer at batch 8; its gemm kernels take any shape in plain nchw.
  // - AMX (bf16 in nhwc, onednn_backend.h): oneDNN 2.6's AMX weight gradient is fast for a 3x3 on
  //   a map of 28 or more (362–370 GFLOP/s against 87–88 for the AVX512_BF16 kernel in nChw16c)
  //   and for a 1x1 that widens the channels (106 against 70), but slower for narrowing 1x1s
  //   (12–13 against 73–78; Xeon family 6 model 167, 2 threads, batch 32, non-zero data), so
  //   those take nChw16c. The copies cost a memory pass each.
  //   Since the matmul weight gradient (conv_weight_gradient.h) only biased ones take nChw16c.
  std::optional<tag> weight_gradient_layout(const std::string& impl, const Shape& out) const {
    if (impl.rfind("ref", 0) == 0 && out.size() == 4) return tag::nchw;
    if (impl.find("amx") == std::string::npos || out.size() != 4) return std::nullopt;
    const bool amx_fast = p_.kernel > 1 ? out[2] >= 28 : p_.in_channels < p_.out_channels;
    return amx_fast ? std::nullopt : std::optional<tag>(tag::nChw16c);
  }

  // A backward primitive descriptor with the forward's algorithm, or direct where oneDNN has no
  // Winograd kernel for that pass.
  template <class Build>
  auto with_fallback(const std::string& kind, const std::string& name, const std::string& shapes, Build&& build) {
    if (alg_ != dnnl::algorithm::convolution_direct) {
      try {
        return build(alg_);
      } catch (const dnnl::error&) {
      }
    }
    return checked(kind, name, shapes, [&] { return build(dnnl::algorithm::convolution_direct); });
  }

  TensorDesc build(std::span<const TensorDesc> in, const PrepareInfo& info) {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    auto& eng = be_.engine();
    const std::string name = p_.str(), shapes = in[0].str();
    const memory::desc src_in = md_of(in[0]);
    const memory::desc w_plain = plain_md(p_.weight_shape());
    // Weights, output and input gradient in the compute type (bf16 under train.precision: bf16);
    // bias, weight and bias gradients stay f32 (oneDNN accumulates them in f32).
    const dt type = compute_dt(be_);
    const memory::desc w_any(dims_of(p_.weight_shape()), type, tag::any);
    const memory::desc dw_any(dims_of(p_.weight_shape()), dt::f32, tag::any);
    const memory::desc dst_any(dims_of(out), type, be_.activation_tag());
    const memory::desc b_md = p_.bias || bn_ ? plain_md({p_.out_channels}) : memory::desc();
    const memory::dims strides{p_.stride, p_.stride}, pad{p_.padding, p_.padding};
    const auto prop = info.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    auto attr = user_scratchpad();
    dnnl::primitive_attr fwd_attr = user_scratchpad();
    dnnl::post_ops ops;  // eval fusion, in graph order: BN's ReLU, the residual add, its ReLU
    if (bn_ && bn_->relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    if (add_) {
      add_post_op_ = ops.len();
      ops.append_binary(dnnl::algorithm::binary_add, dst_any);
      if (add_relu_) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    }
    if (ops.len() > 0) fwd_attr.set_post_ops(ops);
    auto fwd_pd_for = [&](dnnl::algorithm alg, const memory::desc& src) {
      return dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(prop, alg, src, w_any, b_md, dst_any, strides, pad, pad),
          fwd_attr, eng);
    };
    // train.conv_algorithm: winograd: in training, 3×3 stride-1 f32 convolutions run as Winograd
    // F(4×4, 3×3) where oneDNN has it (forward, backward data and weights): 1.0–2.6× the direct
    // kernels on ResNet-50 shapes, at a few times direct's rounding error (tests/oracle states
    // the bound). Inference stays direct: oneDNN's inference Winograd measured slower than
    // direct with the folded BN.
    alg_ = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc fwd;
    if (be_.winograd() && info.training && p_.kernel == 3 && p_.stride == 1 && type == dt::f32) {
      try {
        fwd = fwd_pd_for(dnnl::algorithm::convolution_winograd, src_in);
        alg_ = dnnl::algorithm::convolution_winograd;
      } catch (const dnnl::error&) {
      }
    }
    // Use the arriving layout when a kernel exists for it; otherwise let oneDNN choose and
    // reorder at this edge.
    if (alg_ != dnnl::algorithm::convolution_winograd) {
      try {
        fwd = fwd_pd_for(alg_, src_in);
      } catch (const dnnl::error&) {
        fwd = checked("convolution forward", name, shapes, [&] {
          // `any`, not the activation layout: the first convolution's kernels want C=3 unblocked.
          return fwd_pd_for(alg_, memory::desc(dims_of(in[0].shape), type, tag::any));
        });
      }
    }
    src_md_ = fwd.src_desc();
    dst_md_ = fwd.dst_desc();
    w_fwd_md_ = fwd.weights_desc();
    src_reorder_ = Op();
    if (src_md_ != src_in) {
      src_reorder_ = make_reorder(src_in, src_md_, eng, name);
      src_buf_ = be_.allocate(desc_of(src_md_, in[0].shape));
    }
    w_reorder_ = Op();
    w_fwd_offset_ = 0;
    if (w_fwd_md_ != w_plain) {
      w_reorder_ = make_reorder(w_plain, w_fwd_md_, eng, name);
      if (bn_) w_fwd_offset_ = (w_plain.get_size() + 63) / 64 * 64;
      be_.reserve_weight_scratch(w_fwd_offset_ + w_fwd_md_.get_size());
    }
    fwd_ = Op(dnnl::convolution_forward(fwd), "convolution forward");
    fwd_.arg(DNNL_ARG_SRC, src_md_, eng);
    fwd_.arg(DNNL_ARG_WEIGHTS, w_fwd_md_, eng);
    if (p_.bias || bn_) fwd_.arg(DNNL_ARG_BIAS, b_md, eng);
    fwd_.arg(DNNL_ARG_DST, dst_md_, eng);
    if (add_) fwd_.arg(DNNL_ARG_ATTR_MULTIPLE_POST_OP(add_post_op_) | DNNL_ARG_SRC_1, dst_md_, eng);
    fwd_.arg(DNNL_ARG_SCRATCHPAD, fwd.scratchpad_desc(), eng);
    be_.reserve_scratchpad(fwd.scratchpad_desc().get_size());

    bwd_data_ = Op();
    bwd_weights_ = Op();
    if (info.training && info.needs_grad(0)) {
      auto bd = with_fallback("convolution backward data", name, shapes, [&](dnnl::algorithm alg) {
        return dnnl::convolution_backward_data::primitive_desc(
            dnnl::convolution_backward_data::desc(alg, src_md_, w_any, dst_md_, strides, pad, pad),
            attr, eng, fwd);
      });
      w_bd_md_ = bd.weights_desc();
      w_bd_reorder_ = Op();
      if (w_bd_md_ != w_plain) {
        w_bd_reorder_ = make_reorder(w_plain, w_bd_md_, eng, name);
        be_.reserve_weight_scratch(w_bd_md_.get_size());
      }
      bwd_data_ = Op(dnnl::convolution_backward_data(bd), "convolution backward data");
      bwd_data_.arg(DNNL_ARG_DIFF_DST, dst_md_, eng);
      bwd_data_.arg(DNNL_ARG_WEIGHTS, w_bd_md_, eng);
      bwd_data_.arg(DNNL_ARG_DIFF_SRC, src_md_, eng);
      bwd_data_.arg(DNNL_ARG_SCRATCHPAD, bd.scratchpad_desc(), eng);
      be_.reserve_scratchpad(bd.scratchpad_desc().get_size());
      if (src_reorder_) {
        dsrc_reorder_ = make_reorder(src_md_, src_in, eng, name);
        dsrc_buf_ = be_.allocate(desc_of(src_md_, in[0].shape));
      }
    }
    matmul_dg_ = MatmulDataGradient();
    if (info.training && info.needs_grad(0) && MatmulDataGradient::wanted(p_, src_in, src_md_, dst_md_, be_))
      matmul_dg_ = MatmulDataGradient(p_, src_md_, dst_md_, be_);
    polyphase_dg_ = PolyphaseDataGradient();
    if (info.training && info.needs_grad(0) && PolyphaseDataGradient::wanted(p_, src_in, src_md_, dst_md_, be_))
      polyphase_dg_ = PolyphaseDataGradient(p_, src_md_, dst_md_, be_);
    matmul_wg_ = MatmulWeightGradient();
    if (info.training && MatmulWeightGradient::wanted(p_, src_in, src_md_, dst_md_, be_)) {
      matmul_wg_ = MatmulWeightGradient(p_, src_md_, dst_md_, be_);
    } else if (info.training) {
      const memory::desc db_md = p_.bias ? plain_md({p_.out_channels}) : memory::desc();
      const auto weights_pd = [&](const memory::desc& src, const memory::desc& dst) {
        return with_fallback("convolution backward weights", name, shapes, [&](dnnl::algorithm alg) {
          return dnnl::convolution_backward_weights::primitive_desc(
              dnnl::convolution_backward_weights::desc(alg, src, dw_any, db_md, dst, strides, pad, pad), attr, eng,
              fwd);
        });
      };
      auto bw = weights_pd(src_md_, dst_md_);
      bw_src_reorder_ = Op();
      bw_dy_reorder_ = Op();
      bw_dy_offset_ = 0;
      if (const std::optional<tag> layout = weight_gradient_layout(bw.impl_info_str(), out)) {
        const memory::desc src_other(src_md_.dims(), src_md_.data_type(), *layout);
        const memory::desc dst_other(dst_md_.dims(), dst_md_.data_type(), *layout);
        auto other = weights_pd(src_other, dst_other);
        if (std::string(other.impl_info_str()).rfind("ref", 0) != 0) {
          bw = other;
          bw_src_reorder_ = make_reorder(src_md_, src_other, eng, name);
          bw_dy_reorder_ = make_reorder(dst_md_, dst_other, eng, name);
          bw_dy_offset_ = (src_other.get_size() + 63) / 64 * 64;
          be_.reserve_activation_scratch(bw_dy_offset_ + dst_other.get_size());
        }
      }
      dw_md_ = bw.diff_weights_desc();
      dw_reorder_ = Op();
      if (dw_md_ != w_plain) {
        dw_reorder_ = make_reorder(dw_md_, w_plain, eng, name);
        be_.reserve_weight_scratch(dw_md_.get_size());
      }
      bwd_weights_ = Op(dnnl::convolution_backward_weights(bw), "convolution backward weights");
      bwd_weights_.arg(DNNL_ARG_SRC, bw.src_desc(), eng);
      bwd_weights_.arg(DNNL_ARG_DIFF_DST, bw.diff_dst_desc(), eng);
      bwd_weights_.arg(DNNL_ARG_DIFF_WEIGHTS, dw_md_, eng);
      if (p_.bias) bwd_weights_.arg(DNNL_ARG_DIFF_BIAS, db_md, eng);
      bwd_weights_.arg(DNNL_ARG_SCRATCHPAD, bw.scratchpad_desc(), eng);
      be_.reserve_scratchpad(bw.scratchpad_desc().get_size());
    }
    return desc_of(dst_md_, out);
  }

  ops::Conv2dParams p_;
  OnednnBackend& be_;
  memory::desc src_md_, dst_md_, w_fwd_md_, w_bd_md_, dw_md_;
  Op fwd_, bwd_data_, bwd_weights_, src_reorder_, dsrc_reorder_, w_reorder_, w_bd_reorder_, dw_reorder_;
  MatmulWeightGradient matmul_wg_;     // the weight gradient as a matmul, when wanted
  MatmulDataGradient matmul_dg_;       // the input gradient as a matmul, when wanted
  PolyphaseDataGradient polyphase_dg_;  // or as four stride-1 convolutions
  Op bw_src_reorder_, bw_dy_reorder_;  // to the weight gradient's own layout, when that is faster
  size_t bw_dy_offset_ = 0;            // where its output-gradient copy starts in the activation scratch
  Tensor src_buf_, dsrc_buf_;
  size_t w_fwd_offset_ = 0;  // where the forward-format weights start in the weight scratch
  TensorDesc in_;
  PrepareInfo info_;
  dnnl::algorithm alg_ = dnnl::algorithm::convolution_direct;
  std::optional<AbsorbedBatchNorm> bn_;  // the absorbed batchnorm2d's state (eval), or none
  bool add_ = false, add_relu_ = false;  // an absorbed residual add (eval) and its ReLU
  int add_post_op_ = 0;                  // its index among the post-ops
  Tensor b_fold_;
};

}  // namespace

std::unique_ptr<Layer> make_conv2d_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<Conv2dOnednn>(dynamic_cast<const ops::Conv2dParams&>(p), b);
}

}  // namespace cxr::dnn
