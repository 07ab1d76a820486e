// maxpool2d and global_avgpool (oneDNN pooling) and flatten (a reorder to plain at the network's
// edge). Max pooling keeps its argmax (a workspace), so its backward needs neither input nor output.
// Max pooling over f32 or bf16 with the channels innermost (nhwc, nChw16c, nChw8c) runs
// maxpool_kernel.h's loops instead of oneDNN's (that header says why).
#include <cstring>
#include <optional>

#include "plugins/onednn/maxpool_kernel.h"
#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/maxpool2d.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;

class PoolingOnednn final : public Layer {
 public:
  // kernel/stride/padding 0 for global average pooling (taken from the input size).
  PoolingOnednn(Backend& backend, bool max, int64_t k, int64_t s, int64_t p, std::string name)
      : be_(onednn(backend)), max_(max), k_(k), s_(s), p_(p), name_(std::move(name)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    auto& eng = be_.engine();
    const Shape& x = in[0].shape;
    Shape out;
    if (max_) {
      ops::MaxPool2dParams mp;
      mp.kernel = k_, mp.stride = s_, mp.padding = p_;
      out = mp.output_shape(std::vector<Shape>{x});
    } else {
      out = ops::GlobalAvgPoolParams().output_shape(std::vector<Shape>{x});
    }
    const memory::dims kernel = max_ ? memory::dims{k_, k_} : memory::dims{x[2], x[3]};
    const memory::dims strides = max_ ? memory::dims{s_, s_} : memory::dims{1, 1};
    const memory::dims pad = max_ ? memory::dims{p_, p_} : memory::dims{0, 0};
    const auto alg = max_ ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::desc src = md_of(in[0]);
    own_.reset();
    if (max_) own_ = own_pool(src, x, out);
    if (own_) {
      dst_md_ = memory::desc(dims_of(out), src.data_type(), own_->layout);
      fwd_ = bwd_ = Op();
      has_ws_ = info.training;
      bf16_ = src.data_type() == dt::bf16;
      if (has_ws_) workspace_ = host_allocate(plain_desc({(numel(out) + 3) / 4}));  // a byte per output
      return desc_of(dst_md_, out);
    }
    const memory::desc dst_any(dims_of(out), src.data_type(), tag::any);
    const auto prop = info.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    auto attr = user_scratchpad();
    auto fwd = checked("pooling forward", name_, in[0].str(), [&] {
      return dnnl::pooling_forward::primitive_desc(
          dnnl::pooling_forward::desc(prop, alg, src, dst_any, strides, kernel, pad, pad), attr, eng);
    });
    dst_md_ = fwd.dst_desc();
    fwd_ = Op(dnnl::pooling_forward(fwd), "pooling forward");
    fwd_.arg(DNNL_ARG_SRC, src, eng);
    fwd_.arg(DNNL_ARG_DST, dst_md_, eng);
    fwd_.arg(DNNL_ARG_SCRATCHPAD, fwd.scratchpad_desc(), eng);
    be_.reserve_scratchpad(fwd.scratchpad_desc().get_size());
    has_ws_ = max_ && info.training;
    if (has_ws_) {
      fwd_.arg(DNNL_ARG_WORKSPACE, fwd.workspace_desc(), eng);
      workspace_ = host_allocate(plain_desc({static_cast<int64_t>(fwd.workspace_desc().get_size() + 3) / 4}));
    }
    bwd_ = Op();
    if (info.training && info.needs_grad(0)) {
      auto bwd = checked("pooling backward", name_, in[0].str(), [&] {
        return dnnl::pooling_backward::primitive_desc(
            dnnl::pooling_backward::desc(alg, src, dst_md_, strides, kernel, pad, pad), attr, eng, fwd);
      });
      bwd_ = Op(dnnl::pooling_backward(bwd), "pooling backward");
      bwd_.arg(DNNL_ARG_DIFF_DST, dst_md_, eng);
      bwd_.arg(DNNL_ARG_DIFF_SRC, src, eng);
      if (has_ws_) bwd_.arg(DNNL_ARG_WORKSPACE, fwd.workspace_desc(), eng);
      bwd_.arg(DNNL_ARG_SCRATCHPAD, bwd.scratchpad_desc(), eng);
      be_.reserve_scratchpad(bwd.scratchpad_desc().get_size());
    }
    return desc_of(dst_md_, out);
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (own_) {
      auto* argmax = has_ws_ ? workspace_.data_as<uint8_t>() : nullptr;
      const MaxPoolGeometry& g = own_->geometry;
      if (bf16_)
        return maxpool_forward(x[0]->data_as<const uint16_t>(), y.data_as<uint16_t>(), argmax, g, be_.threads());
      return maxpool_forward(x[0]->data_as<const float>(), y.data_as<float>(), argmax, g, be_.threads());
    }
    fwd_.bind(DNNL_ARG_SRC, x[0]->data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    if (has_ws_) fwd_.bind(DNNL_ARG_WORKSPACE, workspace_.data());
    fwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    fwd_.run(be_.stream(), name_);
  }

  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    if (own_) {
      if (!has_ws_) throw GraphError(name_ + ": backward on a layer prepared for eval");
      const auto* argmax = workspace_.data_as<const uint8_t>();
      const MaxPoolGeometry& g = own_->geometry;
      if (bf16_)
        return maxpool_backward(argmax, dy.data_as<const uint16_t>(), dx[0]->data_as<uint16_t>(), g, be_.threads());
      return maxpool_backward(argmax, dy.data_as<const float>(), dx[0]->data_as<float>(), g, be_.threads());
    }
    bwd_.bind(DNNL_ARG_DIFF_DST, dy.data());
    bwd_.bind(DNNL_ARG_DIFF_SRC, dx[0]->data());
    if (has_ws_) bwd_.bind(DNNL_ARG_WORKSPACE, workspace_.data());
    bwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    bwd_.run(be_.stream(), name_);
  }

  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  // maxpool_kernel.h's loops for this input, when they take it: f32 or bf16 in nhwc, or
  // channel-blocked by 16 or 8 with no padded channels; `layout` is the output's (the input's).
  struct OwnPool {
    MaxPoolGeometry geometry;
    tag layout;
  };
  std::optional<OwnPool> own_pool(const memory::desc& src, const Shape& x, const Shape& out) const {
    if (x.size() != 4 || (src.data_type() != dt::f32 && src.data_type() != dt::bf16)) return std::nullopt;
    OwnPool own{{}, tag::nhwc};
    MaxPoolGeometry& g = own.geometry;
    g.h = x[2], g.w = x[3], g.oh = out[2], g.ow = out[3], g.kernel = k_, g.stride = s_, g.padding = p_;
    const auto is = [&](tag t) { return src == memory::desc(src.dims(), src.data_type(), t); };
    if (is(tag::nhwc)) {
      g.planes = x[0], g.block = x[1];
    } else if (const int64_t b = is(tag::nChw16c) ? 16 : is(tag::nChw8c) ? 8 : 0; b && x[1] % b == 0) {
      own.layout = b == 16 ? tag::nChw16c : tag::nChw8c, g.planes = x[0] * x[1] / b, g.block = b;
    } else {
      return std::nullopt;
    }
    return maxpool_kernel_supports(g) ? std::optional(own) : std::nullopt;
  }

  OnednnBackend& be_;
  bool max_;
  int64_t k_, s_, p_;
  std::string name_;
  memory::desc dst_md_;
  Op fwd_, bwd_;
  Tensor workspace_;
  bool has_ws_ = false;
  std::optional<OwnPool> own_;  // maxpool_kernel.h runs this layer
  bool bf16_ = false;
};

// [N, C, H, W] in any layout -> plain [N, C·H·W]: the reorder to nchw is the flatten.
class FlattenOnednn final : public Layer {
 public:
  explicit FlattenOnednn(Backend& backend) : be_(onednn(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = ops::FlattenParams().output_shape(std::vector<Shape>{in[0].shape});
    const memory::desc src = md_of(in[0]), plain = plain_md(in[0].shape);
    copy_ = src == plain;
    to_plain_ = copy_ ? Op() : make_reorder(src, plain, be_.engine(), "flatten");
    from_plain_ = copy_ || !info.training ? Op() : make_reorder(plain, src, be_.engine(), "flatten");
    return plain_desc(out);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (copy_) return void(std::memcpy(y.data(), x[0]->data(), static_cast<size_t>(y.bytes())));
    to_plain_.bind(DNNL_ARG_FROM, x[0]->data());
    to_plain_.bind(DNNL_ARG_TO, y.data());
    to_plain_.run(be_.stream(), "flatten");
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    if (copy_) return void(std::memcpy(dx[0]->data(), dy.data(), static_cast<size_t>(dy.bytes())));
    from_plain_.bind(DNNL_ARG_FROM, dy.data());
    from_plain_.bind(DNNL_ARG_TO, dx[0]->data());
    from_plain_.run(be_.stream(), "flatten");
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  OnednnBackend& be_;
  bool copy_ = false;
  Op to_plain_, from_plain_;
};

}  // namespace

std::unique_ptr<Layer> make_maxpool2d_onednn(const OpParams& p, Backend& b) {
  const auto& mp = dynamic_cast<const ops::MaxPool2dParams&>(p);
  return std::make_unique<PoolingOnednn>(b, true, mp.kernel, mp.stride, mp.padding, mp.str());
}
std::unique_ptr<Layer> make_global_avgpool_onednn(const OpParams&, Backend& b) {
  return std::make_unique<PoolingOnednn>(b, false, 0, 0, 0, "global_avgpool");
}
std::unique_ptr<Layer> make_flatten_onednn(const OpParams&, Backend& b) {
  return std::make_unique<FlattenOnednn>(b);
}

}  // namespace cxr::dnn
