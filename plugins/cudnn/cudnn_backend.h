// The cuDNN/CUDA GPU backend: device memory for every tensor, one CUDA stream, one cuDNN and one
// cuBLAS handle, one workspace shared by the layers (they run one at a time on the stream), and
// NHWC activations in the compute dtype (train.precision: f32, bf16 or f16). Parameters,
// gradients and optimizer state are always plain f32 device tensors ("master weights").
//
// Always include this file as "plugins/cudnn/cudnn_backend.h": cuDNN ships its own header named
// cudnn_backend.h, which is why plugins/cudnn is never on the include path.
//
// Failure modes: every CUDA/cuDNN/cuBLAS status goes through plugins/cudnn/cudnn_util.h and
// becomes a BackendError naming the call (and the layer and shapes where there is one).
// Construction without a usable GPU is a UsageError carrying cudnn_usable()'s reason.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/backend.h"

// Opaque library types, so that users of this header need no CUDA headers.
struct CUstream_st;
struct cudnnContext;
struct cublasContext;

namespace cxr {

// NHWC storage ("channels last") of a 4-D logical [N, C, H, W] tensor, dense, no padding: what
// cuDNN's tensor-core kernels want. The dtype lives in the TensorDesc.
class CudnnLayout final : public Layout {
 public:
  CudnnLayout(const Shape& shape, DType dtype);
  std::string name() const override { return "nhwc"; }
  int64_t bytes() const override { return bytes_; }
  bool is_plain() const override { return false; }
  bool same_as(const Layout& other) const override;

 private:
  int64_t bytes_;
};

// A 4-D NHWC descriptor of `shape` in `dtype`.
TensorDesc nhwc_desc(const Shape& shape, DType dtype);

class CudnnBackend final : public Backend {
 public:
  // `device`: CUDA ordinal. `compute`: F32, BF16 (needs sm_80+) or F16; UsageError otherwise.
  CudnnBackend(int device, DType compute);
  ~CudnnBackend() override;
  CudnnBackend(const CudnnBackend&) = delete;
  CudnnBackend& operator=(const CudnnBackend&) = delete;

  std::string name() const override { return "cudnn"; }
  Device device() const override { return Device::Cuda; }
  DType compute_dtype() const override { return compute_; }
  std::string describe() const override { return describe_; }
  // Rank 4: NHWC in the compute dtype; otherwise plain f32.
  TensorDesc activation_desc(const Shape& shape) const override;

  Tensor allocate(const TensorDesc& desc) override;
  // Host row-major f32 ⇄ any layout/dtype of this backend, converted on the device through a
  // pinned staging buffer (grown to the largest tensor once). Both wait for the copy.
  void write_plain(Tensor& dst, const float* src) override;
  void read_plain(const Tensor& src, float* dst) override;
  void zero(Tensor& t) override;
  void synchronize() override;

  // Σ x² in a fixed order (two passes, no atomics): the same bits on every run.
  double sum_squares(const Tensor& t) override;
  // sum_squares of each tensor in one launch pair and one synchronisation (the per-stage gradient
  // norms of a whole network at once, instead of one round trip per parameter).
  std::vector<double> sum_squares_many(std::span<const Tensor* const> tensors);
  bool all_finite(const Tensor& t) override;
  void scale(Tensor& t, double factor) override;
  void adam_update(const AdamStep& s, Tensor& param, const Tensor& grad, Tensor& m,
                   Tensor& v) override;
  void sgd_update(const SgdStep& s, Tensor& param, const Tensor& grad, Tensor& momentum) override;
  void copy(const Tensor& src, Tensor& dst) override;

  CUstream_st* stream() const { return stream_.get(); }
  cudnnContext* cudnn() const { return cudnn_.get(); }
  cublasContext* cublas() const { return cublas_.get(); }
  int sm() const { return sm_; }  // compute capability, e.g. 90

  // The workspace shared by all layers: grown in prepare(), read at execution (the pointer may
  // change while other layers prepare, so never cache it).
  void reserve_workspace(size_t bytes);
  void* workspace() const { return workspace_.data(); }
  size_t workspace_bytes() const { return static_cast<size_t>(workspace_.bytes()); }
  // Largest workspace an algorithm may ask for (a share of the free memory at construction).
  size_t workspace_limit() const { return workspace_limit_; }

  // Convolution algorithms chosen once per search key (descriptor_plan.h's conv_algo_key) and
  // shared by every layer and network of this backend, so re-preparing never searches again and
  // two networks of one shape run the same algorithms.
  struct ConvAlgo {
    int algo = 0;
    int math = 0;  // cudnnMathType_t
  };
  const ConvAlgo* conv_algo(const std::string& key) const;
  void remember_conv_algo(const std::string& key, ConvAlgo algo) { conv_algos_[key] = algo; }
  // CXRTUNE_CUDNN_BENCHMARK=1: choose algorithms by measurement (cudnnFind*, like PyTorch's
  // cudnn.benchmark); otherwise by cuDNN's heuristics, which give the same choice in every run.
  bool benchmark_algorithms() const { return benchmark_; }

  // CXRTUNE_CUDA_SYNC=1 (read once, at construction): every layer synchronises after its forward,
  // backward and recompute, so an asynchronous fault (an illegal address) is reported by the
  // layer that caused it, not by a later synchronize or read. Costs speed; for debugging.
  bool sync_each_layer() const { return sync_; }
  // Called by each layer at the end of a pass: in sync mode waits and names `where` on failure.
  void layer_done(const char* pass, const std::string& where) {
    if (sync_) sync_after(pass, where);
  }

 private:
  void* device_staging(size_t bytes);
  void sync_after(const char* pass, const std::string& where);
  void* pinned_staging(size_t bytes);

  int device_ = 0;
  DType compute_;
  int sm_ = 0;
  std::string describe_;
  size_t workspace_limit_ = 0;
  bool sync_ = false, benchmark_ = false;
  std::map<std::string, ConvAlgo> conv_algos_;
  struct Free {  // one deleter for every handle kind (defined where CUDA headers are seen)
    void operator()(CUstream_st* p) const;
    void operator()(cudnnContext* p) const;
    void operator()(cublasContext* p) const;
    void operator()(void* pinned) const;
  };
  // Declared before the tensors so that device memory is freed before the handles go.
  std::unique_ptr<CUstream_st, Free> stream_;
  std::unique_ptr<cudnnContext, Free> cudnn_;
  std::unique_ptr<cublasContext, Free> cublas_;
  std::unique_ptr<void, Free> pinned_;
  size_t pinned_bytes_ = 0;
  Tensor workspace_, staging_;
  Tensor scalars_;     // all_finite's device flag
  Tensor reduction_;  // sum_squares_many's device arguments, partials and results (grown)
};

// Whether a CUDA device and a driver new enough are present; when not, `why` gets the CUDA error
// string ("CUDA driver version is insufficient for CUDA runtime version", "no CUDA-capable device
// is detected"). Never throws.
bool cudnn_usable(std::string* why = nullptr);

std::unique_ptr<Backend> make_cudnn_backend(int device, DType compute = DType::F32);

}  // namespace cxr
