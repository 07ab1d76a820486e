// The losses on the oneDNN backend. Logits are tiny ([N, K]); oneDNN's logsoftmax gives the
// log-probabilities of the cross-entropy, the rest is a short host loop over N·K values in
// float (buffers sized in prepare; nothing allocated per step).
#include <cmath>

#include "plugins/onednn/onednn_util.h"
#include "plugins/onednn/register.h"
#include "engine/ops/bce_with_logits.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr::dnn {
namespace {

using dnnl::memory;

class SoftmaxCrossEntropyOnednn final : public Layer {
 public:
  SoftmaxCrossEntropyOnednn(const ops::SoftmaxCrossEntropyParams& p, Backend& backend)
      : p_(p), be_(onednn(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape, in[1].shape});
    n_ = in[0].shape[0];
    k_ = in[0].shape[1];
    const memory::desc md = plain_md(in[0].shape);
    auto pd = checked("logsoftmax forward", p_.op(), in[0].str(), [&] {
      return dnnl::logsoftmax_forward::primitive_desc(
          dnnl::logsoftmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), be_.engine());
    });
    logsoftmax_ = Op(dnnl::logsoftmax_forward(pd), "logsoftmax forward");
    logsoftmax_.arg(DNNL_ARG_SRC, md, be_.engine());
    logsoftmax_.arg(DNNL_ARG_DST, md, be_.engine());
    logp_ = host_allocate(plain_desc(in[0].shape));
    return plain_desc(out);
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    run_logsoftmax(*x[0]);
    const float* lp = logp_.data_as<const float>();
    const float* t = x[1]->data_as<const float>();
    const double eps = p_.label_smoothing;
    double total = 0, wsum = 0;
    for (int64_t i = 0; i < n_; ++i) {
      const int64_t yi = label(t[i]);
      const double wy = weight(yi);
      wsum += wy;
      total -= (1 - eps) * wy * lp[i * k_ + yi];
      for (int64_t c = 0; c < k_; ++c) total -= eps / static_cast<double>(k_) * weight(c) * lp[i * k_ + c];
    }
    y.data_as<float>()[0] = static_cast<float>(total / wsum);
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    run_logsoftmax(*x[0]);  // the logits may have been overwritten since forward
    const float* lp = logp_.data_as<const float>();
    const float* t = x[1]->data_as<const float>();
    const double eps = p_.label_smoothing;
    double wsum = 0, wall = 0;
    for (int64_t i = 0; i < n_; ++i) wsum += weight(label(t[i]));
    for (int64_t c = 0; c < k_; ++c) wall += weight(c);
    const double scale = dy.data_as<const float>()[0] / wsum;
    float* g = dx[0]->data_as<float>();
    for (int64_t i = 0; i < n_; ++i) {
      const int64_t yi = label(t[i]);
      for (int64_t c = 0; c < k_; ++c) {
        const double p = std::exp(static_cast<double>(lp[i * k_ + c]));
        const double hard = (1 - eps) * weight(yi) * (p - (c == yi ? 1.0 : 0.0));
        const double soft = eps / static_cast<double>(k_) * (p * wall - weight(c));
        g[i * k_ + c] = static_cast<float>((hard + soft) * scale);
      }
    }
  }
  bool backward_reads_output() const override { return false; }

 private:
  void run_logsoftmax(const Tensor& logits) {
    logsoftmax_.bind(DNNL_ARG_SRC, logits.data());
    logsoftmax_.bind(DNNL_ARG_DST, logp_.data());
    logsoftmax_.run(be_.stream(), p_.op());
  }
  int64_t label(float v) const {
    const auto y = static_cast<int64_t>(v);
    if (!(v >= 0) || y >= k_ || static_cast<float>(y) != v)
      throw UsageError("softmax_cross_entropy: target " + std::to_string(v) + " is not a class index in 0.." +
                       std::to_string(k_ - 1));
    return y;
  }
  double weight(int64_t c) const {
    return p_.class_weights.empty() ? 1.0 : p_.class_weights[static_cast<size_t>(c)];
  }

  ops::SoftmaxCrossEntropyParams p_;
  OnednnBackend& be_;
  Op logsoftmax_;
  Tensor logp_;
  int64_t n_ = 0, k_ = 0;
};

// Mean over the unmasked terms of (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z), in the
// overflow-safe form; a target < 0 is masked (plugins/reference/kernels.h states the contract:
// Σ over unmasked / their count, 0 when none is left).
class BceWithLogitsOnednn final : public Layer {
 public:
  BceWithLogitsOnednn(const ops::BceWithLogitsParams& p, Backend&) : p_(p) {}
  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape, in[1].shape});
    if (!in[0].layout->is_plain() || !in[1].layout->is_plain())
      throw GraphError("bce_with_logits: needs plain inputs");
    k_ = in[0].shape[1];
    return plain_desc(out);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const float* z = x[0]->data_as<const float>();
    const float* t = x[1]->data_as<const float>();
    const int64_t n = x[0]->numel();
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (t[i] < 0) continue;
      const double lw = 1 + (pos_weight(i) - 1) * t[i];
      const double softplus = std::log1p(std::exp(-std::abs(static_cast<double>(z[i])))) + std::max(-static_cast<double>(z[i]), 0.0);
      total += (1 - t[i]) * static_cast<double>(z[i]) + lw * softplus;
    }
    y.data_as<float>()[0] = static_cast<float>(total / unmasked(t, n));
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!dx[0]) return;
    const float* z = x[0]->data_as<const float>();
    const float* t = x[1]->data_as<const float>();
    const int64_t n = x[0]->numel();
    const double scale = dy.data_as<const float>()[0] / unmasked(t, n);
    for (int64_t i = 0; i < n; ++i) {
      const double lw = 1 + (pos_weight(i) - 1) * t[i];
      dx[0]->data_as<float>()[i] =
          t[i] < 0 ? 0.0f : static_cast<float>(((1 - t[i]) - lw / (1 + std::exp(static_cast<double>(z[i])))) * scale);
    }
  }
  bool backward_reads_output() const override { return false; }

 private:
  // The divisor: the number of unmasked terms, 1 when all are masked (loss 0, not 0/0).
  static double unmasked(const float* t, int64_t n) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; ++i) m += !(t[i] < 0);
    return static_cast<double>(m > 0 ? m : 1);
  }
  double pos_weight(int64_t i) const { return p_.pos_weight.empty() ? 1.0 : p_.pos_weight[static_cast<size_t>(i % k_)]; }
  ops::BceWithLogitsParams p_;
  int64_t k_ = 1;
};

}  // namespace

std::unique_ptr<Layer> make_softmax_cross_entropy_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<SoftmaxCrossEntropyOnednn>(dynamic_cast<const ops::SoftmaxCrossEntropyParams&>(p), b);
}
std::unique_ptr<Layer> make_bce_with_logits_onednn(const OpParams& p, Backend& b) {
  return std::make_unique<BceWithLogitsOnednn>(dynamic_cast<const ops::BceWithLogitsParams&>(p), b);
}

}  // namespace cxr::dnn
