// relu and add (with optional fused relu): elementwise ops on plain tensors.
#include "engine/ops/add.h"
#include "engine/ops/relu.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

class ReluReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, "relu");
    return plain_desc(ops::ReluParams().output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto a = to_double(*x[0]);
    std::vector<double> out(a.size());
    relu_forward(a.data(), y.numel(), out.data());
    store(out, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const auto a = to_double(*x[0]), g = to_double(dy);
    std::vector<double> out(a.size());
    relu_backward(a.data(), g.data(), dy.numel(), out.data());
    store(out, *dx[0]);
  }
  bool backward_reads_output() const override { return false; }
};

class AddReference final : public Layer {
 public:
  explicit AddReference(const ops::AddParams& p) : p_(p) {}
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.str());
    return plain_desc(p_.output_shape(shapes_of(in)));
  }
  // y may alias a: the network sums gradients in place. Inputs are copied first.
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto a = to_double(*x[0]), b = to_double(*x[1]);
    std::vector<double> out(a.size());
    add_forward(a.data(), b.data(), y.numel(), p_.fuse_relu, out.data());
    store(out, y);
  }
  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const auto out = to_double(y), g = to_double(dy);
    std::vector<double> d(out.size());
    add_backward(out.data(), g.data(), dy.numel(), p_.fuse_relu, d.data());
    for (Tensor* t : dx)
      if (t) store(d, *t);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return p_.fuse_relu; }

 private:
  ops::AddParams p_;
};

}  // namespace

std::unique_ptr<Layer> make_relu_reference(const OpParams&, Backend&) {
  return std::make_unique<ReluReference>();
}
std::unique_ptr<Layer> make_add_reference(const OpParams& p, Backend&) {
  return std::make_unique<AddReference>(dynamic_cast<const ops::AddParams&>(p));
}

}  // namespace cxr::ref
