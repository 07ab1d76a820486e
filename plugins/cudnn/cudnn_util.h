// Helpers of the cuDNN layers: status checking (every CUDA, cuDNN and cuBLAS call goes through
// CXR_CHECK and becomes a BackendError naming the call, the layer and its shapes), RAII cuDNN
// descriptors, and the mapping between cxr descriptors (plain = NCHW row-major, CudnnLayout =
// NHWC) and cuDNN/cuBLAS/kernel descriptions.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <exception>
#include <span>
#include <string>

#include "core/errors.h"
#include "engine/layer.h"
#include "plugins/cudnn/cudnn_backend.h"
#include "plugins/cudnn/kernels.h"

namespace cxr::gpu {

// Throw BackendError("<library> <function> failed in <where>: <status text>"); `call` is the
// stringified call, of which only the function name is kept.
void check(cudaError_t status, const char* call, const std::string& where);
void check(cudnnStatus_t status, const char* call, const std::string& where);
void check(cublasStatus_t status, const char* call, const std::string& where);
#define CXR_CHECK(call, where) ::cxr::gpu::check((call), #call, (where))

// A cuDNN descriptor created with the object and destroyed with it (set again on re-prepare).
template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Descriptor {
 public:
  Descriptor() { check(Create(&d_), "cudnnCreate*Descriptor", "a layer's constructor"); }
  ~Descriptor() {
    if (d_) Destroy(d_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  T get() const { return d_; }

 private:
  T d_{};
};
using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDescriptor = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                  cudnnDestroyConvolutionDescriptor>;

// Ends one pass of a layer (forward, backward) on every return path: under CXRTUNE_CUDA_SYNC the
// backend synchronises there and a fault names this layer (CudnnBackend::layer_done). Never
// checks while an exception is already unwinding.
class PassDone {
 public:
  PassDone(CudnnBackend& be, const char* pass, const std::string& where)
      : be_(be), pass_(pass), where_(where), unwinding_(std::uncaught_exceptions()) {}
  ~PassDone() noexcept(false) {
    if (std::uncaught_exceptions() == unwinding_) be_.layer_done(pass_, where_);
  }
  PassDone(const PassDone&) = delete;
  PassDone& operator=(const PassDone&) = delete;

 private:
  CudnnBackend& be_;
  const char* pass_;
  const std::string& where_;
  int unwinding_;
};

// The backend a layer is created with (GraphError if it is not the cudnn one).
CudnnBackend& cudnn_backend(Backend& backend);

// Storage format of a descriptor of this backend: plain → NCHW, CudnnLayout → NHWC; GraphError
// for another backend's layout or a dtype other than f32/bf16/f16, naming `where` (the layer).
Fmt format_of(const TensorDesc& desc, const std::string& where = "");
// [N, C, H, W] of a rank-4 shape; rank 2 [N, K] as {N, K, 1, 1}; other ranks {numel, 1, 1, 1}.
Dims dims_of(const Shape& shape);
// A descriptor of `shape` with the format and dtype of `like`.
TensorDesc desc_like(const TensorDesc& like, const Shape& shape, DType dtype);
inline TensorDesc desc_like(const TensorDesc& like, const Shape& shape) {
  return desc_like(like, shape, like.dtype);
}
// "conv2d(3->64, k7 s2 p3) on [4, 3, 224, 224] f32 plain": the context of error messages.
std::string where(const std::string& layer, std::span<const TensorDesc> inputs);

cudnnDataType_t cudnn_type(DType dtype, const std::string& where = "");
cudaDataType blas_type(DType dtype, const std::string& where = "");
// A 4-D cuDNN tensor descriptor for `desc` (format, dtype and dimensions): tensor_spec() of
// descriptor_plan.h, so an oversized tensor is a GraphError naming the layer.
void set_tensor(cudnnTensorDescriptor_t td, const TensorDesc& desc, const std::string& where);

// dst = src with dst's layout and dtype (shapes equal), queued on the backend's stream.
void convert(CudnnBackend& be, const void* src, const TensorDesc& src_desc, void* dst,
             const TensorDesc& dst_desc, const std::string& where);
inline void convert(CudnnBackend& be, const Tensor& src, Tensor& dst, const std::string& where) {
  convert(be, src.data(), src.desc(), dst.data(), dst.desc(), where);
}

}  // namespace cxr::gpu
