// sigmoid on plain tensors in double: y = 1 / (1 + e^−x), dx = dy · y · (1 − y). The output is
// computed from e^−|x| so that neither tail overflows.
#include <cmath>

#include "engine/ops/sigmoid.h"
#include "plugins/reference/reference_layer.h"

namespace cxr::ref {
namespace {

double sigmoid(double x) {
  const double e = std::exp(-std::abs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

class SigmoidReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, "sigmoid");
    return plain_desc(ops::SigmoidParams().output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    std::vector<double> v = to_double(*x[0]);
    for (double& e : v) e = sigmoid(e);
    store(v, y);
  }
  // From the input, in double: the f32-rounded output would cost the reference its precision.
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy, std::span<Tensor* const> dx,
                Context&) override {
    if (!dx[0]) return;
    const std::vector<double> v = to_double(*x[0]), g = to_double(dy);
    std::vector<double> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const double s = sigmoid(v[i]);
      out[i] = g[i] * s * (1.0 - s);
    }
    store(out, *dx[0]);
  }
  bool backward_reads_output() const override { return false; }
};

}  // namespace

std::unique_ptr<Layer> make_sigmoid_reference(const OpParams&, Backend&) {
  return std::make_unique<SigmoidReference>();
}

}  // namespace cxr::ref
