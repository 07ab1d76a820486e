// sigmoid on the cuDNN backend: one-pass kernels (sigmoid_kernels.cu) in the layout and dtype of
// the input. Backward takes y · (1 − y) from the output, so the input need not be kept.
#include "engine/ops/sigmoid.h"
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/sigmoid_kernels.h"

namespace cxr::gpu {
namespace {

class SigmoidCudnn final : public Layer {
 public:
  explicit SigmoidCudnn(Backend& backend) : be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    ops::SigmoidParams().output_shape(std::vector<Shape>{in[0].shape});
    where_ = where("sigmoid", in.first(1));
    format_of(in[0], where_);
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    CXR_CHECK(sigmoid_forward(x[0]->data(), y.data(), y.dtype(), y.numel(), be_.stream()), where_);
  }
  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy, std::span<Tensor* const> dx,
                Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0]) return;
    CXR_CHECK(sigmoid_backward(y.data(), dy.data(), dx[0]->data(), dy.dtype(), dy.numel(), be_.stream()), where_);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return true; }

 private:
  CudnnBackend& be_;
  std::string where_;
};

}  // namespace

std::unique_ptr<Layer> make_sigmoid_cudnn(const OpParams&, Backend& b) { return std::make_unique<SigmoidCudnn>(b); }

}  // namespace cxr::gpu
