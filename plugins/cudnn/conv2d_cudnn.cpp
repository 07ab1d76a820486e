// conv2d on cuDNN (legacy cudnnConvolution* API), NHWC activations and KRSC filters in the
// backend's compute dtype, f32 accumulation. An input in another layout or dtype (the network's
// plain f32 image) is converted into a layer-owned NHWC buffer, which backward-filter then reads
// instead of the input. The f32 OIHW weight parameter is converted into a layer-owned KRSC
// buffer at every forward (so an optimizer step needs no extra hook); the filter gradient comes
// back the same way. Algorithms are chosen once per search key and cached by the backend (heuristics,
// or measured with CXRTUNE_CUDNN_BENCHMARK=1), deterministic ones first (conv_algo_choice.h),
// within the backend's workspace limit; for f32 only FMA-math kernels are accepted, because
// cuDNN's default math on sm_80+ may use TF32, which breaks f32 parity with the reference.
// Backward-data is not even planned when no one wants dx (the network's first conv).
#include <algorithm>

#include "plugins/cudnn/conv_algo_choice.h"
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/descriptor_plan.h"
#include "plugins/cudnn/register.h"
#include "engine/ops/conv2d.h"

namespace cxr::gpu {
namespace {

// The cached choice for `key`, or a search: cuDNN's heuristics (the same answer in every run) or,
// with CXRTUNE_CUDNN_BENCHMARK=1, measurement (cudnnFind*, which allocates its own scratch), then
// pick_algo (deterministic first). The heuristics are the fallback when measurement finds
// nothing usable, e.g. when memory is short.
template <class Perf, class Find, class Get>
CudnnBackend::ConvAlgo choose(CudnnBackend& be, const std::string& key, Find&& find, Get&& get,
                              bool exact_f32, const char* what, const std::string& where) {
  if (const CudnnBackend::ConvAlgo* cached = be.conv_algo(key)) return *cached;
  constexpr int kMax = 16;
  Perf perf[kMax];
  int count = 0;
  const size_t limit = be.workspace_limit();
  const Perf* p = nullptr;
  if (be.benchmark_algorithms() && find(kMax, &count, perf) == CUDNN_STATUS_SUCCESS)
    p = pick_algo(perf, count, exact_f32, limit);
  if (!p) {
    CXR_CHECK(get(kMax, &count, perf), where);
    p = pick_algo(perf, count, exact_f32, limit);
  }
  if (!p)
    throw BackendError(std::string("cuDNN has no ") + what + " algorithm for " + where +
                       " within " + std::to_string(limit >> 20) + " MiB of workspace" +
                       (exact_f32 ? " with FMA math" : ""));
  const CudnnBackend::ConvAlgo chosen{static_cast<int>(p->algo), static_cast<int>(p->mathType)};
  be.remember_conv_algo(key, chosen);
  return chosen;
}

class Conv2dCudnn final : public Layer {
 public:
  Conv2dCudnn(const ops::Conv2dParams& p, Backend& backend) : p_(p), be_(cudnn_backend(backend)) {
    parameters_.push_back(make_parameter(backend, "weight", p.weight_shape(), true));
    if (p.bias) parameters_.push_back(make_parameter(backend, "bias", {p.out_channels}, false));
  }

  TensorDesc prepare(std::span<const TensorDesc> in, const PrepareInfo& info) override {
    const Shape out = p_.output_shape(std::vector<Shape>{in[0].shape});
    where_ = where(p_.str(), in.first(1));
    format_of(in[0], where_);
    const DType cd = be_.compute_dtype();
    spec_ = conv_spec(p_, in[0].shape, cd, where_);
    const bool exact_f32 = spec_.exact_f32;
    x_desc_ = nhwc_desc(in[0].shape, cd);
    out_desc_ = nhwc_desc(out, cd);
    w_desc_ = nhwc_desc(p_.weight_shape(), cd);  // KRSC: NHWC of [K, C, R, S]
    convert_in_ = !in[0].same_as(x_desc_);
    training_ = info.training;
    want_dx_ = info.training && info.needs_grad(0);

    set_tensor(x_.get(), x_desc_, where_);
    set_tensor(y_.get(), out_desc_, where_);
    CXR_CHECK(cudnnSetFilter4dDescriptor(w_.get(), spec_.filter_type, CUDNN_TENSOR_NHWC, spec_.k,
                                         spec_.c, spec_.r, spec_.s),
              where_);
    for (const ConvDescriptor* c : {&fwd_conv_, &bwd_data_conv_, &bwd_filter_conv_}) {
      CXR_CHECK(cudnnSetConvolution2dDescriptor(c->get(), spec_.pad, spec_.pad, spec_.stride,
                                                spec_.stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT),
                where_);
      CXR_CHECK(cudnnSetConvolutionMathType(c->get(), spec_.math), where_);
    }
    int dims[4] = {0, 0, 0, 0};
    CXR_CHECK(cudnnGetConvolution2dForwardOutputDim(fwd_conv_.get(), x_.get(), w_.get(), &dims[0],
                                                    &dims[1], &dims[2], &dims[3]),
              where_);
    if (Shape{dims[0], dims[1], dims[2], dims[3]} != out)
      throw BackendError(where_ + ": cuDNN computes output " +
                         to_string(Shape{dims[0], dims[1], dims[2], dims[3]}) + ", the op " +
                         to_string(out));

    cudnnHandle_t h = be_.cudnn();
    size_t ws = 0;
    const auto f = choose<cudnnConvolutionFwdAlgoPerf_t>(
        be_, conv_algo_key("fwd", spec_),
        [&](int n, int* got, cudnnConvolutionFwdAlgoPerf_t* r) {
          return cudnnFindConvolutionForwardAlgorithm(h, x_.get(), w_.get(), fwd_conv_.get(),
                                                      y_.get(), n, got, r);
        },
        [&](int n, int* got, cudnnConvolutionFwdAlgoPerf_t* r) {
          return cudnnGetConvolutionForwardAlgorithm_v7(h, x_.get(), w_.get(), fwd_conv_.get(),
                                                        y_.get(), n, got, r);
        },
        exact_f32, "forward", where_);
    fwd_algo_ = static_cast<cudnnConvolutionFwdAlgo_t>(f.algo);
    set_math(fwd_conv_, static_cast<cudnnMathType_t>(f.math), exact_f32);
    size_t bytes = 0;
    CXR_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, x_.get(), w_.get(), fwd_conv_.get(),
                                                      y_.get(), fwd_algo_, &bytes),
              where_);
    ws = std::max(ws, bytes);
    if (want_dx_) {
      const auto d = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
          be_, conv_algo_key("bwd_data", spec_),
          [&](int n, int* got, cudnnConvolutionBwdDataAlgoPerf_t* r) {
            return cudnnFindConvolutionBackwardDataAlgorithm(
                h, w_.get(), y_.get(), bwd_data_conv_.get(), x_.get(), n, got, r);
          },
          [&](int n, int* got, cudnnConvolutionBwdDataAlgoPerf_t* r) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(
                h, w_.get(), y_.get(), bwd_data_conv_.get(), x_.get(), n, got, r);
          },
          exact_f32, "backward-data", where_);
      bwd_data_algo_ = static_cast<cudnnConvolutionBwdDataAlgo_t>(d.algo);
      set_math(bwd_data_conv_, static_cast<cudnnMathType_t>(d.math), exact_f32);
      CXR_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
                    h, w_.get(), y_.get(), bwd_data_conv_.get(), x_.get(), bwd_data_algo_, &bytes),
                where_);
      ws = std::max(ws, bytes);
    }
    if (training_) {
      const auto w = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
          be_, conv_algo_key("bwd_filter", spec_),
          [&](int n, int* got, cudnnConvolutionBwdFilterAlgoPerf_t* r) {
            return cudnnFindConvolutionBackwardFilterAlgorithm(
                h, x_.get(), y_.get(), bwd_filter_conv_.get(), w_.get(), n, got, r);
          },
          [&](int n, int* got, cudnnConvolutionBwdFilterAlgoPerf_t* r) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                h, x_.get(), y_.get(), bwd_filter_conv_.get(), w_.get(), n, got, r);
          },
          exact_f32, "backward-filter", where_);
      bwd_filter_algo_ = static_cast<cudnnConvolutionBwdFilterAlgo_t>(w.algo);
      set_math(bwd_filter_conv_, static_cast<cudnnMathType_t>(w.math), exact_f32);
      CXR_CHECK(
          cudnnGetConvolutionBackwardFilterWorkspaceSize(
              h, x_.get(), y_.get(), bwd_filter_conv_.get(), w_.get(), bwd_filter_algo_, &bytes),
          where_);
      ws = std::max(ws, bytes);
    }
    be_.reserve_workspace(ws);

    w_buf_ = be_.allocate(w_desc_);
    x_buf_ = convert_in_ ? be_.allocate(x_desc_) : Tensor();
    dx_buf_ = convert_in_ && want_dx_ ? be_.allocate(x_desc_) : Tensor();
    dw_buf_ = training_ ? be_.allocate(w_desc_) : Tensor();
    return out_desc_;
  }

  void forward(std::span<const Tensor* const> x, Tensor& y, Context&) override {
    const PassDone done(be_, "forward", where_);
    const void* src = x[0]->data();
    if (convert_in_) {
      convert(be_, *x[0], x_buf_, where_);
      src = x_buf_.data();
    }
    convert(be_, parameters_[0].value, w_buf_, where_);
    const float one = 1.0f, zero = 0.0f;
    CXR_CHECK(cudnnConvolutionForward(be_.cudnn(), &one, x_.get(), src, w_.get(), w_buf_.data(),
                                      fwd_conv_.get(), fwd_algo_, be_.workspace(),
                                      be_.workspace_bytes(), &zero, y_.get(), y.data()),
              where_);
    if (p_.bias)
      CXR_CHECK(bias_add(y.data(), y.dtype(), parameters_[1].value.data_as<const float>(), rows(),
                         p_.out_channels, be_.stream()),
                where_);
  }

  void backward(std::span<const Tensor* const> x, const Tensor&, const Tensor& dy,
                std::span<Tensor* const> dx, Context&) override {
    const PassDone done(be_, "backward", where_);
    if (!training_) throw GraphError(where_ + ": backward on a layer prepared for eval");
    const float one = 1.0f, zero = 0.0f;
    cudnnHandle_t h = be_.cudnn();
    if (dx[0]) {
      if (!want_dx_) throw GraphError(where_ + ": input gradient requested but not prepared");
      void* target = convert_in_ ? dx_buf_.data() : dx[0]->data();
      // w_buf_ still holds this step's weights: forward converted them and no update ran since.
      CXR_CHECK(cudnnConvolutionBackwardData(h, &one, w_.get(), w_buf_.data(), y_.get(), dy.data(),
                                             bwd_data_conv_.get(), bwd_data_algo_, be_.workspace(),
                                             be_.workspace_bytes(), &zero, x_.get(), target),
                where_);
      if (convert_in_) convert(be_, dx_buf_, *dx[0], where_);
    }
    const void* src = convert_in_ ? x_buf_.data() : x[0]->data();
    CXR_CHECK(
        cudnnConvolutionBackwardFilter(h, &one, x_.get(), src, y_.get(), dy.data(),
                                       bwd_filter_conv_.get(), bwd_filter_algo_, be_.workspace(),
                                       be_.workspace_bytes(), &zero, w_.get(), dw_buf_.data()),
        where_);
    convert(be_, dw_buf_, parameters_[0].grad, where_);
    if (p_.bias)
      CXR_CHECK(column_sum(dy.data(), dy.dtype(), parameters_[1].grad.data_as<float>(), rows(),
                           p_.out_channels, be_.stream()),
                where_);
  }

  bool backward_reads_input(size_t) const override { return !convert_in_; }
  bool backward_reads_output() const override { return false; }

 private:
  // f32 always runs FMA math (never TF32); bf16/f16 run the math type their algorithm was found
  // with.
  void set_math(const ConvDescriptor& c, cudnnMathType_t found, bool exact_f32) {
    CXR_CHECK(cudnnSetConvolutionMathType(c.get(), exact_f32 ? CUDNN_FMA_MATH : found), where_);
  }
  int64_t rows() const { return out_desc_.shape[0] * out_desc_.shape[2] * out_desc_.shape[3]; }

  ops::Conv2dParams p_;
  CudnnBackend& be_;
  std::string where_;
  ConvSpec spec_;
  TensorDesc x_desc_, out_desc_, w_desc_;
  TensorDescriptor x_, y_;
  FilterDescriptor w_;
  ConvDescriptor fwd_conv_, bwd_data_conv_, bwd_filter_conv_;
  cudnnConvolutionFwdAlgo_t fwd_algo_{};
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo_{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo_{};
  Tensor w_buf_, x_buf_, dx_buf_, dw_buf_;
  bool convert_in_ = false, training_ = false, want_dx_ = false;
};

}  // namespace

std::unique_ptr<Layer> make_conv2d_cudnn(const OpParams& p, Backend& b) {
  return std::make_unique<Conv2dCudnn>(dynamic_cast<const ops::Conv2dParams&>(p), b);
}

}  // namespace cxr::gpu
