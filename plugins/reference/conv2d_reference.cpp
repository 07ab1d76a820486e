#include "engine/ops/conv2d.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

class Conv2dReference final : public Layer {
 public:
  Conv2dReference(const ops::Conv2dParams& p, Backend& backend) : p_(p) {
    parameters_.push_back(make_parameter(backend, "weight", p.weight_shape(), true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_channels}, false));
  }
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.str());
    out_ = p_.output_shape(shapes_of(in));
    return plain_desc(out_);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto xv = to_double(*x[0]), wv = to_double(parameters_[0].value);
    std::vector<double> bv, yv(static_cast<size_t>(y.numel()));
    if (p_.bias) bv = to_double(parameters_[1].value);
    conv2d_forward(xv.data(), dims4(x[0]->shape()), wv.data(), p_.bias ? bv.data() : nullptr,
                   p_.out_channels, p_.kernel, p_.stride, p_.padding, yv.data(), out_[2], out_[3]);
    store(yv, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const auto xv = to_double(*x[0]), wv = to_double(parameters_[0].value), g = to_double(dy);
    std::vector<double> dxv(dx[0] ? xv.size() : 0), dwv(wv.size()), dbv(static_cast<size_t>(p_.out_channels));
    conv2d_backward(xv.data(), dims4(x[0]->shape()), wv.data(), p_.out_channels, p_.kernel,
                    p_.stride, p_.padding, g.data(), out_[2], out_[3],
                    dx[0] ? dxv.data() : nullptr, dwv.data(), p_.bias ? dbv.data() : nullptr);
    if (dx[0]) store(dxv, *dx[0]);
    store(dwv, parameters_[0].grad);
    if (p_.bias) store(dbv, parameters_[1].grad);
  }
  bool backward_reads_output() const override { return false; }

 private:
  ops::Conv2dParams p_;
  Shape out_;
};

}  // namespace

std::unique_ptr<Layer> make_conv2d_reference(const OpParams& p, Backend& b) {
  return std::make_unique<Conv2dReference>(dynamic_cast<const ops::Conv2dParams&>(p), b);
}

}  // namespace cxr::ref
