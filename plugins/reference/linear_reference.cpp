#include "plugins/ops/linear.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

// y = x Wᵀ + b; dx = dy W; dW = dyᵀ x; db = Σₙ dy.
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
    std::vector<double> b = p_.bias ? to_double(parameters_[1].value) : std::vector<double>();
    const int64_t n = x[0]->dim(0), in = p_.in_features, out = p_.out_features;
    std::vector<double> yv(static_cast<size_t>(n * out));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < out; ++o) {
        double acc = p_.bias ? b[static_cast<size_t>(o)] : 0.0;
        for (int64_t k = 0; k < in; ++k) acc += xv[static_cast<size_t>(i * in + k)] * w[static_cast<size_t>(o * in + k)];
        yv[static_cast<size_t>(i * out + o)] = acc;
      }
    store(yv, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const auto xv = to_double(*x[0]), w = to_double(parameters_[0].value), g = to_double(dy);
    const int64_t n = x[0]->dim(0), in = p_.in_features, out = p_.out_features;
    std::vector<double> dxv(xv.size(), 0.0), dw(w.size(), 0.0), db(static_cast<size_t>(out), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < out; ++o) {
        const double go = g[static_cast<size_t>(i * out + o)];
        db[static_cast<size_t>(o)] += go;
        for (int64_t k = 0; k < in; ++k) {
          dxv[static_cast<size_t>(i * in + k)] += go * w[static_cast<size_t>(o * in + k)];
          dw[static_cast<size_t>(o * in + k)] += go * xv[static_cast<size_t>(i * in + k)];
        }
      }
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
