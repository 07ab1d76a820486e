// A deliberately wrong plugin for the check-plugin tests: op "softsign", y = x / (1 + |x|), with
// a correct reference and a oneDNN layer that computes tanh instead. The gradcheck passes; the
// parity of softsign/onednn must fail on the output and name it.
#include <cmath>

#include "core/errors.h"
#include "engine/layer_registry.h"
#include "plugins/onednn/onednn_util.h"

namespace {

using namespace cxr;

struct SoftsignParams final : OpParams {
  std::string op() const override { return "softsign"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<SoftsignParams>(*this); }
};

class SoftsignReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    if (!in[0].layout->is_plain() || in[0].dtype != DType::F32) throw GraphError("softsign: needs plain f32");
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const float* a = x[0]->data_as<const float>();
    for (int64_t i = 0; i < y.numel(); ++i) y.data_as<float>()[i] = static_cast<float>(a[i] / (1.0 + std::abs(a[i])));
  }
  // dy/dx = 1 / (1 + |x|)².
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy, std::span<Tensor* const> dx,
                Context&) override {
    if (!dx[0]) return;
    const float* a = x[0]->data_as<const float>();
    for (int64_t i = 0; i < dy.numel(); ++i) {
      const double d = 1.0 + std::abs(a[i]);
      dx[0]->data_as<float>()[i] = static_cast<float>(dy.data_as<const float>()[i] / (d * d));
    }
  }
};

std::unique_ptr<Layer> make_softsign_reference(const OpParams&, Backend&) {
  return std::make_unique<SoftsignReference>();
}
std::unique_ptr<Layer> make_softsign_onednn(const OpParams&, Backend& b) {
  return dnn::make_eltwise_onednn(b, dnnl::algorithm::eltwise_tanh, "softsign");
}

}  // namespace

extern "C" void cxrtune_register_plugin(cxr::LayerRegistry& registry) {
  registry.add_op({"softsign", [] {
                     std::vector<OpCase> cases;
                     for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 17, 4, 4}}) {
                       OpCase c;
                       c.params = std::make_shared<SoftsignParams>();
                       c.inputs = {s};
                       cases.push_back(std::move(c));
                     }
                     return cases;
                   }});
  registry.add("softsign", "reference", &make_softsign_reference);
  registry.add("softsign", "onednn", &make_softsign_onednn);
}
