#include "plugins/cudnn/cublas_api.h"

#include <dlfcn.h>

#include <string>

#include "core/errors.h"

#define CXRTUNE_STR(x) #x
#define CXRTUNE_STRINGIFY(x) CXRTUNE_STR(x)

namespace cxr::gpu {
namespace {

// The library the build found first (CMake passes its path), then the soname on the loader's
// search path (the executable's RUNPATH holds the CUDA library folder).
void* open_cublas() {
  std::string tried;
  for (const char* name : {CXRTUNE_CUBLAS_PATH, "libcublas.so." CXRTUNE_STRINGIFY(CUBLAS_VER_MAJOR)}) {
    if (void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return h;
    tried += std::string(tried.empty() ? "" : "; ") + dlerror();
  }
  throw BackendError("cannot open cuBLAS: " + tried);
}

template <class Fn>
void resolve(void* lib, const char* symbol, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
  if (!fn) throw BackendError(std::string("cuBLAS has no ") + symbol + ": " + dlerror());
}

CublasApi load() {
  void* lib = open_cublas();  // stays open for the process lifetime
  CublasApi api;
  resolve(lib, "cublasCreate_v2", api.cublasCreate_v2);
  resolve(lib, "cublasDestroy_v2", api.cublasDestroy_v2);
  resolve(lib, "cublasSetStream_v2", api.cublasSetStream_v2);
  resolve(lib, "cublasSetMathMode", api.cublasSetMathMode);
  resolve(lib, "cublasGemmEx", api.cublasGemmEx);
  resolve(lib, "cublasGetStatusString", api.cublasGetStatusString);
  resolve(lib, "cublasGetStatusName", api.cublasGetStatusName);
  return api;
}

}  // namespace

const CublasApi& cublas_api() {
  static const CublasApi api = load();
  return api;
}

}  // namespace cxr::gpu
