// A deliberately wrong plugin for the check-plugin tests: op "square", y = x², whose reference
// backward returns 4·x·dy instead of 2·x·dy (off by a factor 2). The gradcheck must fail and
// name the op and the tensor.
#include "core/errors.h"
#include "engine/layer_registry.h"
#include "engine/ops/op_util.h"

namespace {

using namespace cxr;

struct SquareParams final : OpParams {
  std::string op() const override { return "square"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<SquareParams>(*this); }
};

class SquareReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    if (!in[0].layout->is_plain() || in[0].dtype != DType::F32) throw GraphError("square: needs plain f32");
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const float* a = x[0]->data_as<const float>();
    for (int64_t i = 0; i < y.numel(); ++i) y.data_as<float>()[i] = a[i] * a[i];
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy, std::span<Tensor* const> dx,
                Context&) override {
    if (!dx[0]) return;
    const float* a = x[0]->data_as<const float>();
    for (int64_t i = 0; i < dy.numel(); ++i) dx[0]->data_as<float>()[i] = 4.0f * a[i] * dy.data_as<const float>()[i];
  }
};

std::unique_ptr<Layer> make_square_reference(const OpParams&, Backend&) { return std::make_unique<SquareReference>(); }

}  // namespace

extern "C" void cxrtune_register_plugin(cxr::LayerRegistry& registry) {
  registry.add_op({"square", [] {
                     OpCase c;
                     c.params = std::make_shared<SquareParams>();
                     c.inputs = {{1, 3, 5, 7}};
                     return std::vector<OpCase>{c};
                   }});
  registry.add("square", "reference", &make_square_reference);
}
