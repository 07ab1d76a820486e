// softmax_cross_entropy and bce_with_logits: inputs (logits, targets), output the mean loss [1].
#include "engine/ops/bce_with_logits.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "plugins/reference/reference_layer.h"
#include "plugins/reference/register.h"

namespace cxr::ref {
namespace {

std::vector<int64_t> class_indices(const Tensor& t, int64_t classes) {
  std::vector<int64_t> y(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < y.size(); ++i) {
    const float v = t.data_as<const float>()[i];
    y[i] = static_cast<int64_t>(v);
    if (!(v >= 0) || y[i] >= classes || static_cast<float>(y[i]) != v)
      throw UsageError("softmax_cross_entropy: target " + std::to_string(v) +
                       " is not a class index in 0.." + std::to_string(classes - 1));
  }
  return y;
}

class SoftmaxCrossEntropyReference final : public Layer {
 public:
  explicit SoftmaxCrossEntropyReference(const ops::SoftmaxCrossEntropyParams& p)
      : p_(p), weight_(p.class_weights.begin(), p.class_weights.end()) {}
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.op());
    return plain_desc(p_.output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto z = to_double(*x[0]);
    const int64_t n = x[0]->dim(0), k = x[0]->dim(1);
    const auto labels = class_indices(*x[1], k);
    y.data_as<float>()[0] = static_cast<float>(softmax_cross_entropy<double>(
        z.data(), labels.data(), weight_.empty() ? nullptr : weight_.data(), p_.label_smoothing, n, k, nullptr));
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const auto z = to_double(*x[0]);
    const int64_t n = x[0]->dim(0), k = x[0]->dim(1);
    const auto labels = class_indices(*x[1], k);
    std::vector<double> dz(z.size());
    softmax_cross_entropy<double>(z.data(), labels.data(), weight_.empty() ? nullptr : weight_.data(),
                                  p_.label_smoothing, n, k, dz.data());
    const double scale = dy.data_as<const float>()[0];
    for (double& v : dz) v *= scale;
    store(dz, *dx[0]);
  }
  bool backward_reads_output() const override { return false; }

 private:
  ops::SoftmaxCrossEntropyParams p_;
  std::vector<double> weight_;
};

class BceWithLogitsReference final : public Layer {
 public:
  explicit BceWithLogitsReference(const ops::BceWithLogitsParams& p)
      : p_(p), pos_weight_(p.pos_weight.begin(), p.pos_weight.end()) {}
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    require_plain(in, p_.op());
    return plain_desc(p_.output_shape(shapes_of(in)));
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const auto z = to_double(*x[0]), t = to_double(*x[1]);
    y.data_as<float>()[0] = static_cast<float>(bce_with_logits<double>(
        z.data(), t.data(), pos_weight_.empty() ? nullptr : pos_weight_.data(), x[0]->dim(0), x[0]->dim(1), nullptr));
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const auto z = to_double(*x[0]), t = to_double(*x[1]);
    std::vector<double> dz(z.size());
    bce_with_logits<double>(z.data(), t.data(), pos_weight_.empty() ? nullptr : pos_weight_.data(),
                            x[0]->dim(0), x[0]->dim(1), dz.data());
    const double scale = dy.data_as<const float>()[0];
    for (double& v : dz) v *= scale;
    store(dz, *dx[0]);
  }
  bool backward_reads_output() const override { return false; }

 private:
  ops::BceWithLogitsParams p_;
  std::vector<double> pos_weight_;
};

}  // namespace

std::unique_ptr<Layer> make_softmax_cross_entropy_reference(const OpParams& p, Backend&) {
  return std::make_unique<SoftmaxCrossEntropyReference>(dynamic_cast<const ops::SoftmaxCrossEntropyParams&>(p));
}
std::unique_ptr<Layer> make_bce_with_logits_reference(const OpParams& p, Backend&) {
  return std::make_unique<BceWithLogitsReference>(dynamic_cast<const ops::BceWithLogitsParams&>(p));
}

}  // namespace cxr::ref
