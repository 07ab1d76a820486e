// softmax_cross_entropy and bce_with_logits on the cuDNN backend: one-block CUDA kernels over
// the f32 logits (loss_kernels.cu), class weights / pos_weight uploaded once in prepare. The
// loss and d(logits) stay on the device; dy (d loss, normally 1) is read there too, so a train
// step needs no host round trip until the caller reads the loss.
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/bce_with_logits.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr::gpu {
namespace {

// Logits and targets as the loss kernels take them: plain f32.
void require_plain_f32(std::span<const TensorDesc> in, const std::string& where) {
  for (const TensorDesc& d : in)
    if (format_of(d, where) != Fmt::Nchw || d.dtype != DType::F32)
      throw GraphError(where + ": needs plain f32 logits and targets, got " + d.str());
}

// A small f32 vector (class weights) in device memory; undefined when empty.
Tensor upload(CudnnBackend& be, const std::vector<float>& values) {
  if (values.empty()) return Tensor();
  Tensor t = be.allocate(plain_desc({static_cast<int64_t>(values.size())}));
  be.write_plain(t, values.data());
  return t;
}

// What both losses share: plain f32 logits and targets, per-class weights uploaded once, and one
// kernel call that writes the loss (forward: y) or d(logits) for a given d(loss) (backward).
template <class Params>
class LossCudnn : public Layer {
 public:
  LossCudnn(const Params& p, Backend& backend, const std::vector<float>& weights)
      : p_(p), be_(cudnn_backend(backend)), weights_(upload(be_, weights)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape, in[1].shape});
    where_ = where(p_.op(), in.first(2));
    require_plain_f32(in.first(2), where_);
    n_ = in[0].shape[0];
    k_ = in[0].shape[1];
    return plain_desc(out);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    launch(x[0]->data_as<const float>(), x[1]->data_as<const float>(), y.data_as<float>(), nullptr, nullptr);
  }
  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0]) return;
    launch(x[0]->data_as<const float>(), x[1]->data_as<const float>(), nullptr, dy.data_as<const float>(),
           dx[0]->data_as<float>());
  }
  bool backward_reads_output() const override { return false; }

 protected:
  // The loss kernel: loss into y, or d(logits) into dx from dy (the other pair is null).
  virtual void launch(const float* logits, const float* targets, float* y, const float* dy, float* dx) = 0;
  const float* weights() const { return weights_.defined() ? weights_.data_as<const float>() : nullptr; }

  Params p_;
  CudnnBackend& be_;
  Tensor weights_;
  std::string where_;
  int64_t n_ = 0, k_ = 0;
};

class SoftmaxCrossEntropyCudnn final : public LossCudnn<ops::SoftmaxCrossEntropyParams> {
 public:
  SoftmaxCrossEntropyCudnn(const ops::SoftmaxCrossEntropyParams& p, Backend& backend)
      : LossCudnn(p, backend, p.class_weights) {}

 private:
  void launch(const float* logits, const float* targets, float* y, const float* dy, float* dx) override {
    CXR_CHECK(cross_entropy(logits, targets, weights(), p_.label_smoothing, n_, k_, y, dy, dx, be_.stream()),
              where_);
  }
};

class BceWithLogitsCudnn final : public LossCudnn<ops::BceWithLogitsParams> {
 public:
  BceWithLogitsCudnn(const ops::BceWithLogitsParams& p, Backend& backend) : LossCudnn(p, backend, p.pos_weight) {}

 private:
  void launch(const float* logits, const float* targets, float* y, const float* dy, float* dx) override {
    CXR_CHECK(bce_with_logits(logits, targets, weights(), n_, k_, y, dy, dx, be_.stream()), where_);
  }
};

}  // namespace

std::unique_ptr<Layer> make_softmax_cross_entropy_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<SoftmaxCrossEntropyCudnn>(
      dynamic_cast<const ops::SoftmaxCrossEntropyParams&>(p), b);
}
std::unique_ptr<Layer> make_bce_with_logits_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<BceWithLogitsCudnn>(dynamic_cast<const ops::BceWithLogitsParams&>(p), b);
}

}  // namespace cxr::gpu
