// batchnorm2d on cuDNN (spatial mode), in the layout and dtype of its input; γ, β, the batch
// statistics and the running statistics are f32 whatever the activations are (cuDNN derives the
// f32 parameter descriptor for half inputs). Training passes `momentum` as cuDNN's
// exponentialAverageFactor: cuDNN's running update is PyTorch's (running = (1 − m)·running +
// m·batch, with the *unbiased* batch variance for running_var; PyTorch's own CUDA path relies on
// the same call). num_batches_tracked is a host counter, += 1 per training forward.
// The training output is written by batchnorm_apply from cuDNN's saved mean and inverse standard
// deviation (overwriting cuDNN's own y, with the fused ReLU keeping NaN), so recompute() gives it
// again bit for bit and the network may drop it after forward. fuse_relu: backward masks dy by
// that output recomputed from x̂ (batchnorm_relu_grad) into the shared workspace before cuDNN's
// backward, as the reference does: backward never reads y.
#include "plugins/cudnn/cudnn_util.h"
#include "core/errors.h"
#include "engine/communicator.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/batchnorm2d.h"

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
    fmt_ = format_of(in[0], where_);
    dims_ = dims_of(in[0].shape);
    // Workspace: [masked dy (fuse_relu)] [dx nobody wants (cuDNN always writes one)].
    const size_t bytes = align256(static_cast<size_t>(in[0].bytes()));
    if (training_) be_.reserve_workspace((p_.fuse_relu ? bytes : 0) + (want_dx_ ? 0 : bytes));
    count_ = numel(in[0].shape);
    return in[0];
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) override {
    // SyncBatchNorm is built for the CPU backends only (its per-channel sums are host loops);
    // refused here rather than silently normalising with this rank's rows alone.
    if (ctx.training && ctx.batch_norm_group && ctx.batch_norm_group->size() > 1)
      throw UsageError("train.sync_bn: true is not supported by the GPU backend (cudnn) yet; use train.sync_bn: false "
                       "or train.backend: cpu");
    const float one = 1.0f, zero = 0.0f;
    const float* gamma = parameters_[0].value.data_as<const float>();
    const float* beta = parameters_[1].value.data_as<const float>();
    float* running_mean = buffers_[0].value.data_as<float>();
    float* running_var = buffers_[1].value.data_as<float>();
    if (ctx.training && ctx.replaying) {
      // Activation checkpointing: the first run's output again from its saved statistics (what
      // the training forward stores, bit for bit); the running statistics moved then.
      apply(*x[0], y);
    } else if (ctx.training) {
      CXR_CHECK(cudnnBatchNormalizationForwardTraining(
                    be_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, x_.get(), x[0]->data(),
                    x_.get(), y.data(), stats_.get(), gamma, beta, p_.momentum, running_mean,
                    running_var, p_.eps, mean_.data(), inv_std_.data()),
                where_);
      ++*buffers_[2].value.data_as<int64_t>();
      apply(*x[0], y);
    } else {
      CXR_CHECK(cudnnBatchNormalizationForwardInference(be_.cudnn(), CUDNN_BATCHNORM_SPATIAL, &one,
                                                        &zero, x_.get(), x[0]->data(), x_.get(),
                                                        y.data(), stats_.get(), gamma, beta,
                                                        running_mean, running_var, p_.eps),
                where_);
    }
    if (!ctx.training && p_.fuse_relu)
      CXR_CHECK(relu_forward(y.data(), y.data(), y.dtype(), count_, be_.stream()), where_);
    be_.layer_done("forward", where_);
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    if (!training_) throw GraphError(where_ + ": backward on a layer prepared for eval");
    auto* ws = static_cast<char*>(be_.workspace());
    const void* grad = dy.data();
    size_t used = 0;
    if (p_.fuse_relu) {
      CXR_CHECK(batchnorm_relu_grad(x[0]->data(), dy.data(), ws, stats(), dy.dtype(), fmt_, dims_,
                                    be_.stream()),
                where_);
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
    be_.layer_done("backward", where_);
  }

  bool backward_reads_output() const override { return false; }
  bool can_recompute_output() const override { return training_; }
  bool can_replay_forward() const override { return training_; }
  std::optional<AbsorbedBatchNorm> absorbable_batchnorm() const override {  // for a producer folding it
    return batchnorm_state(parameters_, buffers_, p_.eps, p_.fuse_relu, p_.channels);
  }
  void recompute(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    if (!training_) throw GraphError(where_ + ": recompute on a layer prepared for eval");
    apply(*x[0], y);
    be_.layer_done("recompute", where_);
  }

 private:
  // The saved batch statistics of the last training forward, with γ and β.
  BatchNormStats stats() const {
    return {mean_.data_as<const float>(), inv_std_.data_as<const float>(),
            parameters_[0].value.data_as<const float>(), parameters_[1].value.data_as<const float>()};
  }
  // y = the training output from x and stats(): what forward stores and recompute repeats.
  void apply(const Tensor& x, Tensor& y) {
    CXR_CHECK(batchnorm_apply(x.data(), y.data(), stats(), p_.fuse_relu, y.dtype(), fmt_, dims_,
                              be_.stream()),
              where_);
  }

  ops::BatchNorm2dParams p_;
  CudnnBackend& be_;
  std::string where_;
  TensorDescriptor x_, stats_;
  Tensor mean_, inv_std_;  // saved by the training forward for backward
  bool training_ = false, want_dx_ = true;
  int64_t count_ = 0;
  Fmt fmt_ = Fmt::Nhwc;
  Dims dims_;
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm2d_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<BatchNorm2dCudnn>(dynamic_cast<const ops::BatchNorm2dParams&>(p), b);
}

}  // namespace cxr::gpu
