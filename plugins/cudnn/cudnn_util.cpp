#include "plugins/cudnn/cudnn_util.h"

#include "plugins/cudnn/cublas_api.h"
#include "plugins/cudnn/descriptor_plan.h"

namespace cxr::gpu {
namespace {

// "cudnnCreate(&h)" -> "cudnnCreate"; "gpu::cublas_api().cublasGemmEx(...)" -> "cublasGemmEx".
std::string function_name(const char* call) {
  std::string s(call);
  const std::string loaded = "cublas_api().";
  if (const auto at = s.find(loaded); at != std::string::npos && at < s.find('(')) s = s.substr(at + loaded.size());
  return s.substr(0, s.find('('));
}

[[noreturn]] void fail(const char* library, const char* call, const std::string& where,
                       const std::string& what) {
  throw BackendError(std::string(library) + " " + function_name(call) + " failed" +
                     (where.empty() ? "" : " in " + where) + ": " + what);
}

}  // namespace

void check(cudaError_t status, const char* call, const std::string& where) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call does not report it again
  fail("CUDA", call, where,
       std::string(cudaGetErrorString(status)) + " [" + cudaGetErrorName(status) + "]");
}

void check(cudnnStatus_t status, const char* call, const std::string& where) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char detail[512] = {0};
  // cuDNN 9 keeps a description of the last error; it often names the unsupported parameter.
  cudnnGetLastErrorString(detail, sizeof(detail));
  fail("cuDNN", call, where,
       std::string(cudnnGetErrorString(status)) +
           (detail[0] ? std::string(" (") + detail + ")" : ""));
}

void check(cublasStatus_t status, const char* call, const std::string& where) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail("cuBLAS", call, where,
       std::string(cublas_api().cublasGetStatusString(status)) + " [" + cublas_api().cublasGetStatusName(status) + "]");
}

CudnnBackend& cudnn_backend(Backend& backend) {
  auto* b = dynamic_cast<CudnnBackend*>(&backend);
  if (!b) throw GraphError("a cuDNN layer needs the cudnn backend, got '" + backend.name() + "'");
  return *b;
}

Fmt format_of(const TensorDesc& desc, const std::string& where) {
  const std::string in = where.empty() ? "cuDNN backend" : where + " (cuDNN backend)";
  if (desc.dtype != DType::F32 && desc.dtype != DType::BF16 && desc.dtype != DType::F16)
    throw GraphError(in + ": tensors are f32, bf16 or f16, got " + desc.str());
  if (!desc.layout) throw GraphError(in + ": descriptor without a layout: " + desc.str());
  if (desc.layout->is_plain()) return Fmt::Nchw;
  if (dynamic_cast<const CudnnLayout*>(desc.layout.get()) && desc.shape.size() == 4)
    return Fmt::Nhwc;
  throw GraphError(in + ": foreign layout " + desc.str());
}

Dims dims_of(const Shape& s) {
  if (s.size() == 4) return {s[0], s[1], s[2], s[3]};
  if (s.size() == 2) return {s[0], s[1], 1, 1};
  return {numel(s), 1, 1, 1};
}

TensorDesc desc_like(const TensorDesc& like, const Shape& shape, DType dtype) {
  return format_of(like) == Fmt::Nhwc && shape.size() == 4 ? nhwc_desc(shape, dtype)
                                                           : plain_desc(shape, dtype);
}

std::string where(const std::string& layer, std::span<const TensorDesc> inputs) {
  std::string s = layer + " on";
  for (size_t i = 0; i < inputs.size(); ++i) s += (i ? ", " : " ") + inputs[i].str();
  return s;
}

cudnnDataType_t cudnn_type(DType dtype, const std::string& where) {
  switch (dtype) {
    case DType::F32:
      return CUDNN_DATA_FLOAT;
    case DType::F16:
      return CUDNN_DATA_HALF;
    case DType::BF16:
      return CUDNN_DATA_BFLOAT16;
    default:
      throw GraphError((where.empty() ? "" : where + ": ") + "cuDNN backend: no cuDNN type for " +
                       to_string(dtype));
  }
}

cudaDataType blas_type(DType dtype, const std::string& where) {
  switch (dtype) {
    case DType::F32:
      return CUDA_R_32F;
    case DType::F16:
      return CUDA_R_16F;
    case DType::BF16:
      return CUDA_R_16BF;
    default:
      throw GraphError((where.empty() ? "" : where + ": ") + "cuDNN backend: no cuBLAS type for " +
                       to_string(dtype));
  }
}

void set_tensor(cudnnTensorDescriptor_t td, const TensorDesc& desc, const std::string& where) {
  const TensorSpec s = tensor_spec(desc, where);
  CXR_CHECK(cudnnSetTensor4dDescriptor(td, s.format, s.type, s.n, s.c, s.h, s.w), where);
}

void convert(CudnnBackend& be, const void* src, const TensorDesc& sd, void* dst,
             const TensorDesc& dd, const std::string& where) {
  if (sd.shape != dd.shape && numel(sd.shape) != numel(dd.shape))
    throw GraphError(where + ": cannot convert " + sd.str() + " to " + dd.str());
  // Shapes may differ only by a flatten: the lower-rank side is plain, i.e. NCHW-ordered
  // [N, C·H·W], so both sides are described by the dimensions of the 4-D one.
  const Dims d = dims_of(sd.shape.size() >= dd.shape.size() ? sd.shape : dd.shape);
  CXR_CHECK(
      gpu::convert(src, sd.dtype, format_of(sd), dst, dd.dtype, format_of(dd), d, be.stream()),
      where);
}

}  // namespace cxr::gpu
