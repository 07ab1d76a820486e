// linear on cuBLAS (cublasGemmEx, f32 accumulation): x plain [N, in] in f32 or the compute dtype,
// y = x Wᵀ + b plain f32 [N, out] — the logits stay f32 so the loss runs in f32. The f32 weight is
// converted to x's dtype into a layer-owned buffer at each forward when x is bf16/f16; dy (f32)
// is converted likewise for the two backward GEMMs, whose weight gradient comes out in f32.
// Row-major matrices are column-major transposes, so y (N×out, row-major) is computed as the
// column-major out×N product W·xᵀ, and so on (comments at each call).
#include "plugins/cudnn/cublas_api.h"
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/linear.h"

namespace cxr::gpu {
namespace {

class LinearCudnn final : public Layer {
 public:
  LinearCudnn(const ops::LinearParams& p, Backend& backend) : p_(p), be_(cudnn_backend(backend)) {
    parameters_.push_back(make_parameter(backend, "weight", {p.out_features, p.in_features}, true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_features}, false));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    where_ = where(p_.str(), in.first(1));
    if (format_of(in[0], where_) != Fmt::Nchw) throw GraphError(where_ + ": needs a plain input");
    if (in[0].shape[0] > INT32_MAX || p_.in_features > INT32_MAX || p_.out_features > INT32_MAX)
      throw GraphError(where_ + ": sizes exceed cuBLAS's 32-bit dimensions");
    type_ = in[0].dtype;
    n_ = in[0].shape[0];
    const bool low = type_ != DType::F32;
    w_buf_ = low ? be_.allocate(plain_desc({p_.out_features, p_.in_features}, type_)) : Tensor();
    dy_buf_ = low && info.training ? be_.allocate(plain_desc(out, type_)) : Tensor();
    return plain_desc(out);
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    const void* w = weights();
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType t = blas_type(type_);
    // yᵀ (out×N) = op(W-buffer)ᵀ · xᵀ, W-buffer column-major is Wᵀ (in×out, ld in).
    CXR_CHECK(cublas_api().cublasGemmEx(be_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, out(), n(), in(), &one, w, t,
                           in(), x[0]->data(), t, in(), &zero, y.data(), CUDA_R_32F, out(),
                           CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              where_);
    if (p_.bias)
      CXR_CHECK(bias_add(y.data(), DType::F32, parameters_[1].value.data_as<const float>(), n_,
                         p_.out_features, be_.stream()),
                where_);
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType t = blas_type(type_);
    const void* g = dy.data();
    if (dy_buf_.defined()) {
      convert(be_, dy, dy_buf_, where_);
      g = dy_buf_.data();
    }
    if (dx[0]) {
      // dxᵀ (in×N) = Wᵀ (in×out, the W-buffer as is) · dyᵀ (out×N); w_buf_ still holds this step's
      // weights.
      CXR_CHECK(cublas_api().cublasGemmEx(be_.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, in(), n(), out(), &one,
                             weights_for_backward(), t, in(), g, t, out(), &zero, dx[0]->data(), t,
                             in(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                where_);
    }
    // dWᵀ (in×out) = xᵀ (in×N) · dy (N×out, i.e. dy-buffer transposed); written in f32.
    CXR_CHECK(cublas_api().cublasGemmEx(be_.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, in(), out(), n(), &one,
                           x[0]->data(), t, in(), g, t, out(), &zero, parameters_[0].grad.data(),
                           CUDA_R_32F, in(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              where_);
    if (p_.bias)
      CXR_CHECK(column_sum(dy.data(), DType::F32, parameters_[1].grad.data_as<float>(), n_,
                           p_.out_features, be_.stream()),
                where_);
  }

  bool backward_reads_output() const override { return false; }

 private:
  // The weight in x's dtype: the f32 parameter itself, or its conversion (refreshed each forward).
  const void* weights() {
    if (!w_buf_.defined()) return parameters_[0].value.data();
    convert(be_, parameters_[0].value, w_buf_, where_);
    return w_buf_.data();
  }
  const void* weights_for_backward() const {
    return w_buf_.defined() ? w_buf_.data() : parameters_[0].value.data();
  }
  int n() const { return static_cast<int>(n_); }
  int in() const { return static_cast<int>(p_.in_features); }
  int out() const { return static_cast<int>(p_.out_features); }

  ops::LinearParams p_;
  CudnnBackend& be_;
  std::string where_;
  DType type_ = DType::F32;
  int64_t n_ = 0;
  Tensor w_buf_, dy_buf_;
};

}  // namespace

std::unique_ptr<Layer> make_linear_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<LinearCudnn>(dynamic_cast<const ops::LinearParams&>(p), b);
}

}  // namespace cxr::gpu
