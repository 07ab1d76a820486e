// GELU on plain host tensors, computed in double: the truth the oneDNN version is tested against.
#include "core/errors.h"
#include "plugins/examples/gelu/gelu.h"

namespace cxr::gelu {
namespace {

class GeluReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> inputs, const PrepareInfo&) override {
    const Shape shapes[1] = {inputs[0].shape};
    GeluParams().output_shape(shapes);
    if (!inputs[0].layout->is_plain() || inputs[0].dtype != DType::F32)
      throw GraphError("gelu (reference): needs plain f32 input, got " + inputs[0].str());
    return inputs[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const float* in = x[0]->data_as<const float>();
    float* out = y.data_as<float>();
    for (int64_t i = 0; i < y.numel(); ++i) out[i] = static_cast<float>(gelu(in[i]));
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const float* in = x[0]->data_as<const float>();
    const float* g = dy.data_as<const float>();
    float* out = dx[0]->data_as<float>();
    for (int64_t i = 0; i < dy.numel(); ++i) out[i] = static_cast<float>(g[i] * gelu_grad(in[i]));
  }
};

}  // namespace

std::unique_ptr<Layer> make_gelu_reference(const OpParams&, Backend&) {
  return std::make_unique<GeluReference>();
}

}  // namespace cxr::gelu
