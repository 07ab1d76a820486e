// relu and add (with the fused ReLU) on the cuDNN backend: one-pass kernels in the layout and
// dtype of the (first) input. Both take their backward mask from the output (y > 0 ⇔ x > 0 for
// ReLU), so neither keeps its inputs for backward. An add whose second input arrives in another
// layout/dtype converts it into a layer-owned buffer first; its gradient goes back converted.
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/add.h"
#include "engine/ops/relu.h"

namespace cxr::gpu {
namespace {

class ReluCudnn final : public Layer {
 public:
  explicit ReluCudnn(Backend& backend) : be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    ops::ReluParams().output_shape(std::vector<Shape>{in[0].shape});
    where_ = where("relu", in.first(1));
    format_of(in[0], where_);
    return in[0];
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    CXR_CHECK(relu_forward(x[0]->data(), y.data(), y.dtype(), y.numel(), be_.stream()), where_);
  }
  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0]) return;
    CXR_CHECK(
        relu_backward(y.data(), dy.data(), dx[0]->data(), dy.dtype(), dy.numel(), be_.stream()),
        where_);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return true; }

 private:
  CudnnBackend& be_;
  std::string where_;
};

class AddCudnn final : public Layer {
 public:
  AddCudnn(const ops::AddParams& p, Backend& backend) : p_(p), be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    p_.output_shape(std::vector<Shape>{in[0].shape, in[1].shape});
    where_ = where(p_.str(), in.first(2));
    format_of(in[0], where_);
    format_of(in[1], where_);
    a_desc_ = in[0];
    b_desc_ = in[1];
    same_ = in[0].same_as(in[1]);
    b_buf_ = same_ ? Tensor() : be_.allocate(in[0]);
    // Only the second input wants a gradient, in another layout, after a fused ReLU: the masked
    // gradient needs a home in a's layout before conversion.
    if (info.training && !same_ && p_.fuse_relu)
      be_.reserve_workspace(static_cast<size_t>(in[0].bytes()));
    return in[0];
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    const void* b = x[1]->data();
    if (!same_) {
      convert(be_, *x[1], b_buf_, where_);
      b = b_buf_.data();
    }
    CXR_CHECK(
        add_forward(x[0]->data(), b, y.data(), p_.fuse_relu, y.dtype(), y.numel(), be_.stream()),
        where_);
  }

  void backward(std::span<const Tensor* const>, const Tensor& y, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0] && !dx[1]) return;
    cudaStream_t s = be_.stream();
    // The gradient in a's layout: dy itself, or dy masked by y > 0 written straight into a
    // destination that has a's layout.
    const void* grad = dy.data();
    if (p_.fuse_relu) {
      void* home = dx[0] ? dx[0]->data() : same_ ? dx[1]->data() : be_.workspace();
      CXR_CHECK(relu_backward(y.data(), dy.data(), home, dy.dtype(), dy.numel(), s), where_);
      grad = home;
    }
    const auto bytes = static_cast<size_t>(dy.bytes());
    if (dx[0] && dx[0]->data() != grad)
      CXR_CHECK(cudaMemcpyAsync(dx[0]->data(), grad, bytes, cudaMemcpyDeviceToDevice, s), where_);
    if (!dx[1] || dx[1]->data() == grad) return;
    if (same_) {
      CXR_CHECK(cudaMemcpyAsync(dx[1]->data(), grad, bytes, cudaMemcpyDeviceToDevice, s), where_);
    } else {
      convert(be_, grad, a_desc_, dx[1]->data(), b_desc_, where_);
    }
  }

  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return p_.fuse_relu; }

 private:
  ops::AddParams p_;
  CudnnBackend& be_;
  std::string where_;
  TensorDesc a_desc_, b_desc_;
  bool same_ = true;
  Tensor b_buf_;
};

}  // namespace

std::unique_ptr<Layer> make_relu_cudnn(const OpParams&, Backend& b) {
  return std::make_unique<ReluCudnn>(b);
}
std::unique_ptr<Layer> make_add_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<AddCudnn>(dynamic_cast<const ops::AddParams&>(p), b);
}

}  // namespace cxr::gpu
