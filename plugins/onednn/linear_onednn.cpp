// linear on oneDNN inner product, plain [N, in] -> plain [N, out] (the network's head).
#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "engine/ops/linear.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;

class LinearOnednn final : public Layer {
 public:
  LinearOnednn(const ops::LinearParams& p, Backend& backend) : p_(p), be_(onednn(backend)) {
    parameters_.push_back(make_parameter(backend, "weight", {p.out_features, p.in_features}, true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_features}, false));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    if (!in[0].layout->is_plain()) throw GraphError(p_.str() + ": needs a plain input, got " + in[0].str());
    auto& eng = be_.engine();
    const std::string name = p_.str(), shapes = in[0].str();
    const memory::desc src = plain_md(in[0].shape), dst = plain_md(out);
    const memory::desc w = plain_md({p_.out_features, p_.in_features});
    const memory::desc b = p_.bias ? plain_md({p_.out_features}) : memory::desc();
    const auto prop = info.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    auto attr = user_scratchpad();
    auto fwd = checked("inner product forward", name, shapes, [&] {
      return dnnl::inner_product_forward::primitive_desc(
          dnnl::inner_product_forward::desc(prop, src, w, b, dst), attr, eng);
    });
    fwd_ = Op(dnnl::inner_product_forward(fwd), "inner product forward");
    fwd_.arg(DNNL_ARG_SRC, src, eng);
    fwd_.arg(DNNL_ARG_WEIGHTS, w, eng);
    if (p_.bias) fwd_.arg(DNNL_ARG_BIAS, b, eng);
    fwd_.arg(DNNL_ARG_DST, dst, eng);
    fwd_.arg(DNNL_ARG_SCRATCHPAD, fwd.scratchpad_desc(), eng);
    be_.reserve_scratchpad(fwd.scratchpad_desc().get_size());
    bwd_data_ = Op();
    bwd_weights_ = Op();
    if (!info.training) return plain_desc(out);
    if (info.needs_grad(0)) {
      auto bd = checked("inner product backward data", name, shapes, [&] {
        return dnnl::inner_product_backward_data::primitive_desc(
            dnnl::inner_product_backward_data::desc(src, w, dst), attr, eng, fwd);
      });
      bwd_data_ = Op(dnnl::inner_product_backward_data(bd), "inner product backward data");
      bwd_data_.arg(DNNL_ARG_DIFF_DST, dst, eng);
      bwd_data_.arg(DNNL_ARG_WEIGHTS, w, eng);
      bwd_data_.arg(DNNL_ARG_DIFF_SRC, src, eng);
      bwd_data_.arg(DNNL_ARG_SCRATCHPAD, bd.scratchpad_desc(), eng);
      be_.reserve_scratchpad(bd.scratchpad_desc().get_size());
    }
    auto bw = checked("inner product backward weights", name, shapes, [&] {
      return dnnl::inner_product_backward_weights::primitive_desc(
          dnnl::inner_product_backward_weights::desc(src, w, b, dst), attr, eng, fwd);
    });
    bwd_weights_ = Op(dnnl::inner_product_backward_weights(bw), "inner product backward weights");
    bwd_weights_.arg(DNNL_ARG_SRC, src, eng);
    bwd_weights_.arg(DNNL_ARG_DIFF_DST, dst, eng);
    bwd_weights_.arg(DNNL_ARG_DIFF_WEIGHTS, w, eng);
    if (p_.bias) bwd_weights_.arg(DNNL_ARG_DIFF_BIAS, b, eng);
    bwd_weights_.arg(DNNL_ARG_SCRATCHPAD, bw.scratchpad_desc(), eng);
    be_.reserve_scratchpad(bw.scratchpad_desc().get_size());
    return plain_desc(out);
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    fwd_.bind(DNNL_ARG_SRC, x[0]->data());
    fwd_.bind(DNNL_ARG_WEIGHTS, parameters_[0].value.data());
    if (p_.bias) fwd_.bind(DNNL_ARG_BIAS, parameters_[1].value.data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    fwd_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    fwd_.run(be_.stream(), p_.str());
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (dx[0]) {
      bwd_data_.bind(DNNL_ARG_DIFF_DST, dy.data());
      bwd_data_.bind(DNNL_ARG_WEIGHTS, parameters_[0].value.data());
      bwd_data_.bind(DNNL_ARG_DIFF_SRC, dx[0]->data());
      bwd_data_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
      bwd_data_.run(be_.stream(), p_.str());
    }
    bwd_weights_.bind(DNNL_ARG_SRC, x[0]->data());
    bwd_weights_.bind(DNNL_ARG_DIFF_DST, dy.data());
    bwd_weights_.bind(DNNL_ARG_DIFF_WEIGHTS, parameters_[0].grad.data());
    if (p_.bias) bwd_weights_.bind(DNNL_ARG_DIFF_BIAS, parameters_[1].grad.data());
    bwd_weights_.bind(DNNL_ARG_SCRATCHPAD, be_.scratchpad());
    bwd_weights_.run(be_.stream(), p_.str());
  }

  bool backward_reads_output() const override { return false; }

 private:
  ops::LinearParams p_;
  OnednnBackend& be_;
  Op fwd_, bwd_data_, bwd_weights_;
};

}  // namespace

std::unique_ptr<Layer> make_linear_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<LinearOnednn>(dynamic_cast<const ops::LinearParams&>(p), b);
}

}  // namespace cxr::dnn
