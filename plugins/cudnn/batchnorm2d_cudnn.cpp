// batchnorm2d on cuDNN (spatial mode), in the layout and dtype of its input; γ, β, the batch
// statistics and the running statistics are f32 whatever the activations are (cuDNN derives the
// f32 parameter descriptor for half inputs). Training passes `momentum` as cuDNN's
// exponentialAverageFactor: cuDNN's running update is PyTorch's (running = (1 − m)·running +
// m·batch, with the *unbiased* batch variance for running_var; PyTorch's own CUDA path relies on
// the same call). num_batches_tracked is a host counter, += 1 per training forward.
// fuse_relu: ReLU in place on the output; backward masks dy by y > 0 into the shared workspace
// before cuDNN's backward (which is why the output is kept for backward, as in the reference).
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/register.h"
#include "plugins/ops/batchnorm2d.h"

namespace cxr::gpu {
namespace {

constexpr size_t align256(size_t n) { return (n + 255) / 256 * 256; }

class BatchNorm2dCudnn final : public Layer {
 public:
  BatchNorm2dCudnn(const ops::BatchNorm2dParams& p, Backend& backend)
      : p_(p), be_(cudnn_backend(backend)) {
    ops::create_batchnorm_state(p, backend, parameters_, buffers_);
    mean_ = backend.allocate(plain_desc({p.channels}));
    inv_std_ = backend.allocate(plain_desc({p.channels}));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    p_.output_shape(std::vector<Shape>{in[0].shape});
    where_ = where(p_.str(), in.first(1));
    set_tensor(x_.get(), in[0], where_);
    CXR_CHECK(cudnnDeriveBNTensorDescriptor(stats_.get(), x_.get(), CUDNN_BATCHNORM_SPATIAL),
              where_);
    training_ = info.training;
    want_dx_ = info.needs_grad(0);
    // Workspace: [masked dy (fuse_relu)] [dx nobody wants (cuDNN always writes one)].
    const size_t bytes = align256(static_cast<size_t>(in[0].bytes()));
    if (training_) be_.reserve_workspace((p_.fuse_relu ? bytes : 0) + (want_dx_ ? 0 : bytes));
    count_ = numel(in[0].shape);
    return in[0];
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) override {
    const float one = 1.0f, zero = 0.0f;
    const float* gamma = parameters_[0].value.data_as<const float>();
    const float* beta = parameters_[1].value.data_as<const float>();
    float* running_mean = buffers_[0].value.data_as<float>();
    float* running_var = buffers_[1].value.data_as<float>();
    if (ctx.training) {
      CXR_CHECK(cudnnBatchNormalizationForwardTraining(
                    be_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, x_.get(), x[0]->data(),
                    x_.get(), y.data(), stats_.get(), gamma, beta, p_.momentum, running_mean,
                    running_var, p_.eps, mean_.data(), inv_std_.data()),
                where_);
      ++*buffers_[2].value.data_as<int64_t>();
    } else {
      CXR_CHECK(cudnnBatchNormalizationForwardInference(be_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one,
                                                        &zero, x_.get(), x[0]->data(), x_.get(),
                                                        y.data(), stats_.get(), gamma, beta,
                                                        running_mean, running_var, p_.eps),
                where_);
    }
    if (p_.fuse_relu)
      CXR_CHECK(relu_forward(y.data(), y.data(), y.dtype(), count_, be_.stream()), where_);
  }

  void backward(std::span<const Tensor* const> x, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!training_) throw GraphError(where_ + ": backward on a layer prepared for eval");
    auto* ws = static_cast<char*>(be_.workspace());
    const void* grad = dy.data();
    size_t used = 0;
    if (p_.fuse_relu) {
      CXR_CHECK(relu_backward(y.data(), dy.data(), ws, dy.dtype(), count_, be_.stream()), where_);
      grad = ws;
      used = align256(static_cast<size_t>(dy.bytes()));
    }
    if (dx[0] && !want_dx_)
      throw GraphError(where_ + ": input gradient requested but not prepared");
    void* target = dx[0] ? dx[0]->data() : ws + used;
    const float one = 1.0f, zero = 0.0f;
    // Overwrite (β = 0) dx, dγ and dβ: every parameter is used once per forward.
    CXR_CHECK(cudnnBatchNormalizationBackward(
                  be_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, x_.get(),
                  x[0]->data(), x_.get(), grad, x_.get(), target, stats_.get(),
                  parameters_[0].value.data(), parameters_[0].grad.data(),
                  parameters_[1].grad.data(), p_.eps, mean_.data(), inv_std_.data()),
              where_);
  }

  bool backward_reads_output() const override { return p_.fuse_relu; }

 private:
  ops::BatchNorm2dParams p_;
  CudnnBackend& be_;
  std::string where_;
  TensorDescriptor x_, stats_;
  Tensor mean_, inv_std_;  // saved by the training forward for backward
  bool training_ = false, want_dx_ = true;
  int64_t count_ = 0;
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm2d_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<BatchNorm2dCudnn>(dynamic_cast<const ops::BatchNorm2dParams&>(p), b);
}

}  // namespace cxr::gpu
