// Elementwise ops (relu and any eltwise algorithm) and add (binary, with a fused ReLU post-op) on oneDNN, in the layout of their
// input. The add's backward masks dy by y > 0 with the "use dst" ReLU backward, so the block's
// inputs need not be kept for it.
#include <cstring>

#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "plugins/onednn/residual_kernels.h"
#include "engine/ops/add.h"
#include "engine/ops/relu.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;

// One oneDNN eltwise algorithm (relu, gelu_erf, ...) in the layout of its input; backward from
// the input. Plugins reuse it for their own elementwise ops.
class EltwiseOnednn final : public Layer {
 public:
  EltwiseOnednn(Backend& backend, dnnl::algorithm alg, std::string name)
      : be_(onednn(backend)), alg_(alg), name_(std::move(name)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    auto& eng = be_.engine();
    const memory::desc data = md_of(in[0]);
    const auto prop = info.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    auto fwd = checked("eltwise forward", name_, in[0].str(), [&] {
      return dnnl::eltwise_forward::primitive_desc(dnnl::eltwise_forward::desc(prop, alg_, data, 0.f, 0.f), eng);
    });
    fwd_ = Op(dnnl::eltwise_forward(fwd), "eltwise forward");
    fwd_.arg(DNNL_ARG_SRC, data, eng);
    fwd_.arg(DNNL_ARG_DST, data, eng);
    bwd_ = Op();
    if (info.training) {
      auto bwd = checked("eltwise backward", name_, in[0].str(), [&] {
        return dnnl::eltwise_backward::primitive_desc(dnnl::eltwise_backward::desc(alg_, data, data, 0.f, 0.f), eng, fwd);
      });
      bwd_ = Op(dnnl::eltwise_backward(bwd), "eltwise backward");
      for (int a : {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) bwd_.arg(a, data, eng);
    }
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    fwd_.bind(DNNL_ARG_SRC, x[0]->data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    fwd_.run(be_.stream(), name_);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    bwd_.bind(DNNL_ARG_SRC, x[0]->data());
    bwd_.bind(DNNL_ARG_DIFF_DST, dy.data());
    bwd_.bind(DNNL_ARG_DIFF_SRC, dx[0]->data());
    bwd_.run(be_.stream(), name_);
  }
  bool backward_reads_output() const override { return false; }

 private:
  OnednnBackend& be_;
  dnnl::algorithm alg_;
  std::string name_;
  Op fwd_, bwd_;
};

class AddOnednn final : public Layer {
 public:
  AddOnednn(const ops::AddParams& p, Backend& backend) : p_(p), be_(onednn(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    p_.output_shape(std::vector<Shape>{in[0].shape, in[1].shape});
    auto& eng = be_.engine();
    const std::string name = p_.str(), shapes = in[0].str() + " + " + in[1].str();
    a_md_ = md_of(in[0]);
    b_md_ = md_of(in[1]);
    fwd_ = Op();
    if (!streamed()) {  // otherwise forward() runs residual_add
      dnnl::primitive_attr attr;
      if (p_.fuse_relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(ops);
      }
      auto fwd = checked("binary add", name, shapes, [&] {
        return dnnl::binary::primitive_desc(dnnl::binary::desc(dnnl::algorithm::binary_add, a_md_, b_md_, a_md_),
                                            attr, eng);
      });
      fwd_ = Op(dnnl::binary(fwd), "binary add");
      fwd_.arg(DNNL_ARG_SRC_0, a_md_, eng);
      fwd_.arg(DNNL_ARG_SRC_1, b_md_, eng);
      fwd_.arg(DNNL_ARG_DST, a_md_, eng);
    }
    mask_ = Op();
    to_b_ = Op();
    if (info.training && p_.fuse_relu) {
      auto relu_fwd = dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::eltwise_relu_use_dst_for_bwd, a_md_, 0.f, 0.f),
          eng);
      auto bwd = checked("eltwise relu backward", name, shapes, [&] {
        return dnnl::eltwise_backward::primitive_desc(
            dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, a_md_, a_md_, 0.f, 0.f),
            eng, relu_fwd);
      });
      mask_ = Op(dnnl::eltwise_backward(bwd), "eltwise relu backward");
      for (int a : {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) mask_.arg(a, a_md_, eng);
    }
    if (info.training && b_md_ != a_md_) to_b_ = make_reorder(a_md_, b_md_, eng, name);
    return in[0];
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (streamed() && bf16()) {
      residual_add_bf16(x[0]->data_as<const uint16_t>(), x[1]->data_as<const uint16_t>(), y.data_as<uint16_t>(),
                        y.bytes() / 2, p_.fuse_relu, be_.threads());
      return;
    }
    if (streamed()) {
      residual_add(static_cast<const float*>(x[0]->data()), static_cast<const float*>(x[1]->data()),
                   static_cast<float*>(y.data()), y.bytes() / static_cast<int64_t>(sizeof(float)), p_.fuse_relu,
                   be_.threads());
      return;
    }
    fwd_.bind(DNNL_ARG_SRC_0, x[0]->data());
    fwd_.bind(DNNL_ARG_SRC_1, x[1]->data());
    fwd_.bind(DNNL_ARG_DST, y.data());
    fwd_.run(be_.stream(), p_.str());
  }

  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    backward_into(y, dy, nullptr, dx);
  }
  bool backward_sums_dy() const override { return streamed(); }
  void backward_summed(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy, const Tensor& dy_partial,
                       std::span<Tensor* const> dx, Context&) override {
    backward_into(y, dy, &dy_partial, dx);
  }

  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return p_.fuse_relu; }
  bool backward_input_grads_equal() const override { return true; }

 private:
  // f32 or bf16 operands in one layout go through residual_kernels.h (streamed stores); mixed
  // layouts and types through oneDNN's primitives, which convert and reorder.
  bool streamed() const {
    return a_md_ == b_md_ && (a_md_.data_type() == memory::data_type::f32 || bf16());
  }
  bool bf16() const { return a_md_.data_type() == memory::data_type::bf16; }
  // da is dy (+ dy_partial), masked by y > 0 with the ReLU; db is the same values in b's layout.
  void backward_into(const Tensor& y, const Tensor& dy, const Tensor* dy_partial, std::span<Tensor* const> dx) {
    const Tensor* first = nullptr;
    for (size_t i = 0; i < 2; ++i) {
      if (!dx[i]) continue;
      const bool same_layout = i == 0 || b_md_ == a_md_;
      if (first && dx[i]->data() == first->data()) continue;  // the network shares one buffer
      if (first && same_layout) {
        std::memcpy(dx[i]->data(), first->data(), static_cast<size_t>(dx[i]->bytes()));
      } else if (first) {
        to_b_.bind(DNNL_ARG_FROM, first->data());
        to_b_.bind(DNNL_ARG_TO, dx[i]->data());
        to_b_.run(be_.stream(), p_.str());
      } else if (dy_partial && bf16()) {
        residual_add_backward_bf16(dy.data_as<const uint16_t>(), dy_partial->data_as<const uint16_t>(),
                                   y.data_as<const uint16_t>(), dx[i]->data_as<uint16_t>(), dx[i]->bytes() / 2,
                                   p_.fuse_relu, be_.threads());
        first = dx[i];
      } else if (dy_partial) {  // same layout: backward_sums_dy() asks for it
        residual_add_backward(static_cast<const float*>(dy.data()), static_cast<const float*>(dy_partial->data()),
                              static_cast<const float*>(y.data()), static_cast<float*>(dx[i]->data()),
                              dx[i]->bytes() / static_cast<int64_t>(sizeof(float)), p_.fuse_relu, be_.threads());
        first = dx[i];
      } else if (p_.fuse_relu) {
        if (!same_layout)
          throw GraphError(p_.str() + ": only the second input wants a gradient and its layout differs");
        mask_.bind(DNNL_ARG_DST, y.data());
        mask_.bind(DNNL_ARG_DIFF_DST, dy.data());
        mask_.bind(DNNL_ARG_DIFF_SRC, dx[i]->data());
        mask_.run(be_.stream(), p_.str());
        first = dx[i];
      } else if (same_layout) {
        std::memcpy(dx[i]->data(), dy.data(), static_cast<size_t>(dx[i]->bytes()));
        first = dx[i];
      } else {
        to_b_.bind(DNNL_ARG_FROM, dy.data());
        to_b_.bind(DNNL_ARG_TO, dx[i]->data());
        to_b_.run(be_.stream(), p_.str());
      }
    }
  }
  ops::AddParams p_;
  OnednnBackend& be_;
  memory::desc a_md_, b_md_;
  Op fwd_, mask_, to_b_;
};

}  // namespace

std::unique_ptr<Layer> make_eltwise_onednn(Backend& b, dnnl::algorithm alg, const std::string& name) {
  return std::make_unique<EltwiseOnednn>(b, alg, name);
}
std::unique_ptr<Layer> make_relu_onednn(const OpParams&, Backend& b) {
  return make_eltwise_onednn(b, dnnl::algorithm::eltwise_relu, "relu");
}
std::unique_ptr<Layer> make_add_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<AddOnednn>(dynamic_cast<const ops::AddParams&>(p), b);
}

}  // namespace cxr::dnn
