// maxpool2d and global_avgpool (own kernels, in the layout and dtype of the input) and flatten
// (NHWC → plain [N, C·H·W]: a real layout change through the convert kernel, in the input's
// dtype). Max pooling keeps the index of each window's maximum (int32, like oneDNN's workspace
// and PyTorch's indices, with PyTorch's first-maximum tie rule), so its backward is a
// deterministic gather that needs neither input nor output.
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/flatten.h"
#include "engine/ops/global_avgpool.h"
#include "engine/ops/maxpool2d.h"

namespace cxr::gpu {
namespace {

class MaxPool2dCudnn final : public Layer {
 public:
  MaxPool2dCudnn(const ops::MaxPool2dParams& p, Backend& backend)
      : p_(p), be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    where_ = where(p_.str(), in.first(1));
    fmt_ = format_of(in[0], where_);
    dims_ = dims_of(in[0].shape);
    geometry_ = {p_.kernel, p_.stride, p_.padding, out[2], out[3]};
    if (numel(in[0].shape) > INT32_MAX)
      throw GraphError(where_ + ": input too large for int32 indices");
    argmax_ = info.training ? be_.allocate(plain_desc(out, DType::F32))
                            : Tensor();  // int32, same count as f32
    return desc_like(in[0], out);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) override {
    const PassDone done(be_, "forward", where_);
    int32_t* argmax = ctx.training && argmax_.defined() ? argmax_.data_as<int32_t>() : nullptr;
    CXR_CHECK(maxpool_forward(x[0]->data(), y.data(), argmax, y.dtype(), fmt_, dims_, geometry_,
                              be_.stream()),
              where_);
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0]) return;
    if (!argmax_.defined()) throw GraphError(where_ + ": backward on a layer prepared for eval");
    CXR_CHECK(maxpool_backward(dy.data(), argmax_.data_as<const int32_t>(), dx[0]->data(),
                               dy.dtype(), fmt_, dims_, geometry_, be_.stream()),
              where_);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  ops::MaxPool2dParams p_;
  CudnnBackend& be_;
  std::string where_;
  Fmt fmt_ = Fmt::Nhwc;
  Dims dims_;
  PoolGeometry geometry_;
  Tensor argmax_;
};

class GlobalAvgPoolCudnn final : public Layer {
 public:
  explicit GlobalAvgPoolCudnn(Backend& backend) : be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    const Shape out = ops::GlobalAvgPoolParams().output_shape(std::vector<Shape>{in[0].shape});
    where_ = where("global_avgpool", in.first(1));
    fmt_ = format_of(in[0], where_);
    dims_ = dims_of(in[0].shape);
    return desc_like(in[0], out);
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    CXR_CHECK(avgpool_forward(x[0]->data(), y.data(), y.dtype(), fmt_, dims_, be_.stream()),
              where_);
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!dx[0]) return;
    CXR_CHECK(avgpool_backward(dy.data(), dx[0]->data(), dy.dtype(), fmt_, dims_, be_.stream()),
              where_);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  CudnnBackend& be_;
  std::string where_;
  Fmt fmt_ = Fmt::Nhwc;
  Dims dims_;
};

class FlattenCudnn final : public Layer {
 public:
  explicit FlattenCudnn(Backend& backend) : be_(cudnn_backend(backend)) {}

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo&) override {
    const Shape out = ops::FlattenParams().output_shape(std::vector<Shape>{in[0].shape});
    where_ = where("flatten", in.first(1));
    format_of(in[0], where_);
    in_desc_ = in[0];
    out_desc_ = plain_desc(out, in[0].dtype);
    return out_desc_;
  }
  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    convert(be_, *x[0], y, where_);
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (dx[0]) convert(be_, dy.data(), out_desc_, dx[0]->data(), in_desc_, where_);
  }
  bool backward_reads_input(size_t) const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  CudnnBackend& be_;
  std::string where_;
  TensorDesc in_desc_, out_desc_;
};

}  // namespace

std::unique_ptr<Layer> make_maxpool2d_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<MaxPool2dCudnn>(dynamic_cast<const ops::MaxPool2dParams&>(p), b);
}
std::unique_ptr<Layer> make_global_avgpool_cudnn(const OpParams&, Backend& b) {
  return std::make_unique<GlobalAvgPoolCudnn>(b);
}
std::unique_ptr<Layer> make_flatten_cudnn(const OpParams&, Backend& b) {
  return std::make_unique<FlattenCudnn>(b);
}

}  // namespace cxr::gpu
