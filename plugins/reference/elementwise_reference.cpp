// relu and add (with optional fused relu): elementwise ops on plain tensors.
#include "plugins/ops/add.h"
#include "plugins/ops/relu.h"
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
    const float* a = x[0]->data_as<const float>();
    float* out = y.data_as<float>();
    for (int64_t i = 0; i < y.numel(); ++i) out[i] = a[i] > 0.0f ? a[i] : 0.0f;
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const float* a = x[0]->data_as<const float>();
    const float* g = dy.data_as<const float>();
    float* out = dx[0]->data_as<float>();
    for (int64_t i = 0; i < dy.numel(); ++i) out[i] = a[i] > 0.0f ? g[i] : 0.0f;
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
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const float* a = x[0]->data_as<const float>();
    const float* b = x[1]->data_as<const float>();
    float* out = y.data_as<float>();  // may alias a (the network sums gradients in place)
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double s = static_cast<double>(a[i]) + b[i];
      out[i] = static_cast<float>(p_.fuse_relu && s < 0 ? 0.0 : s);
    }
  }
  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const float* out = y.data_as<const float>();
    const float* g = dy.data_as<const float>();
    for (Tensor* d : dx) {
      if (!d) continue;
      float* o = d->data_as<float>();
      for (int64_t i = 0; i < dy.numel(); ++i) o[i] = !p_.fuse_relu || out[i] > 0.0f ? g[i] : 0.0f;
    }
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
