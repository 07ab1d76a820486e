// cuBLAS, opened the first time a cuDNN backend is made rather than at program start. Linking
// libcublas costs every cxrtune process about 150 MiB of resident memory as it loads
// (libcublasLt's relocations), CPU-only runs included; cudart and cuDNN 9 (a thin dispatcher
// that opens its engines lazily) cost 2 MiB. The pointer types come from cuBLAS's own header.
#pragma once
#include <cublas_v2.h>

namespace cxr::gpu {

// cublasGemmEx is overloaded in C++ (a cudaDataType compute-type convenience); this is the C one.
using CublasGemmEx = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                        const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                                        int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                                        cublasGemmAlgo_t);

struct CublasApi {
  decltype(&::cublasCreate_v2) cublasCreate_v2 = nullptr;
  decltype(&::cublasDestroy_v2) cublasDestroy_v2 = nullptr;
  decltype(&::cublasSetStream_v2) cublasSetStream_v2 = nullptr;
  decltype(&::cublasSetMathMode) cublasSetMathMode = nullptr;
  CublasGemmEx cublasGemmEx = nullptr;
  decltype(&::cublasGetStatusString) cublasGetStatusString = nullptr;
  decltype(&::cublasGetStatusName) cublasGetStatusName = nullptr;
};

// Opens libcublas once (thread-safe) and resolves every entry; BackendError naming the library
// or the missing symbol when it cannot.
const CublasApi& cublas_api();

}  // namespace cxr::gpu
