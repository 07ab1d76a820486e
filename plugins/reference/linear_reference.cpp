#include "engine/ops/linear.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

class LinearReference final : public Layer {
 public:
  LinearReference(const ops::LinearParams& p, Backend& backend) : p_(p) {
    parameters_.push_back(make_parameter(backend, "weight", {p.out_features, p.in_features}, true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_features}, false));
  }
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.str());
    return plain_desc(p_.output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto xv = to_double(*x[0]), w = to_double(parameters_[0].value);
    const std::vector<double> b = p_.bias ? to_double(parameters_[1].value) : std::vector<double>();
    std::vector<double> yv(static_cast<size_t>(y.numel()));
    linear_forward(xv.data(), w.data(), p_.bias ? b.data() : nullptr, x[0]->dim(0), p_.in_features,
                   p_.out_features, yv.data());
    store(yv, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const auto xv = to_double(*x[0]), w = to_double(parameters_[0].value), g = to_double(dy);
    std::vector<double> dxv(xv.size()), dw(w.size()), db(static_cast<size_t>(p_.out_features));
    linear_backward(xv.data(), w.data(), g.data(), x[0]->dim(0), p_.in_features, p_.out_features,
                    dx[0] ? dxv.data() : nullptr, dw.data(), p_.bias ? db.data() : nullptr);
    if (dx[0]) store(dxv, *dx[0]);
    store(dw, parameters_[0].grad);
    if (p_.bias) store(db, parameters_[1].grad);
  }
  bool backward_reads_output() const override { return false; }

 private:
  ops::LinearParams p_;
};

}  // namespace

std::unique_ptr<Layer> make_linear_reference(const OpParams& p, Backend& b) {
  return std::make_unique<LinearReference>(dynamic_cast<const ops::LinearParams&>(p), b);
}

}  // namespace cxr::ref
