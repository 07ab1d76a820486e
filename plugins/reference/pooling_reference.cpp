// maxpool2d, global_avgpool and flatten on plain tensors.
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/maxpool2d.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

class MaxPool2dReference final : public Layer {
 public:
  explicit MaxPool2dReference(const ops::MaxPool2dParams& p) : p_(p) {}
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.str());
    out_ = p_.output_shape(shapes_of(in));
    arg_.assign(static_cast<size_t>(numel(out_)), 0);
    return plain_desc(out_);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto xv = to_double(*x[0]);
    std::vector<double> yv(static_cast<size_t>(y.numel()));
    maxpool_forward(xv.data(), dims4(x[0]->shape()), p_.kernel, p_.stride, p_.padding, yv.data(),
                    out_[2], out_[3], arg_.data());
    store(yv, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    std::vector<double> dxv(static_cast<size_t>(x[0]->numel()));
    const auto g = to_double(dy);
    maxpool_backward(dims4(x[0]->shape()), g.data(), dy.numel(), arg_.data(), dxv.data());
    store(dxv, *dx[0]);
  }
  bool backward_reads_input(size_t) const override { return false; }  // argmax kept
  bool backward_reads_output() const override { return false; }

 private:
  ops::MaxPool2dParams p_;
  Shape out_;
  std::vector<int64_t> arg_;
};

class GlobalAvgPoolReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, "global_avgpool");
    return plain_desc(ops::GlobalAvgPoolParams().output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto a = to_double(*x[0]);
    std::vector<double> out(static_cast<size_t>(y.numel()));
    avgpool_forward(a.data(), dims4(x[0]->shape()), out.data());
    store(out, y);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const auto g = to_double(dy);
    std::vector<double> d(static_cast<size_t>(x[0]->numel()));
    avgpool_backward(dims4(x[0]->shape()), g.data(), d.data());
    store(d, *dx[0]);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }
};

class FlattenReference final : public Layer {
 public:
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, "flatten");
    return plain_desc(ops::FlattenParams().output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    std::copy_n(x[0]->data_as<const float>(), y.numel(), y.data_as<float>());
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (dx[0]) std::copy_n(dy.data_as<const float>(), dy.numel(), dx[0]->data_as<float>());
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }
};

}  // namespace

std::unique_ptr<Layer> make_maxpool2d_reference(const OpParams& p, Backend&) {
  return std::make_unique<MaxPool2dReference>(dynamic_cast<const ops::MaxPool2dParams&>(p));
}
std::unique_ptr<Layer> make_global_avgpool_reference(const OpParams&, Backend&) {
  return std::make_unique<GlobalAvgPoolReference>();
}
std::unique_ptr<Layer> make_flatten_reference(const OpParams&, Backend&) {
  return std::make_unique<FlattenReference>();
}

}  // namespace cxr::ref
