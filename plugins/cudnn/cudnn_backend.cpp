#include "plugins/cudnn/cudnn_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "plugins/cudnn/cublas_api.h"
#include "plugins/cudnn/cudnn_util.h"
#include "plugins/cudnn/kernel_math.h"
#include "plugins/cudnn/optim_constants.h"

namespace cxr {

using gpu::check;

CudnnLayout::CudnnLayout(const Shape& shape, DType dtype)
    : bytes_(numel(shape) * dtype_size(dtype)) {
  if (shape.size() != 4) throw GraphError("nhwc layout needs a 4-D shape, got " + to_string(shape));
}

bool CudnnLayout::same_as(const Layout& other) const {
  return dynamic_cast<const CudnnLayout*>(&other) && other.bytes() == bytes_;
}

TensorDesc nhwc_desc(const Shape& shape, DType dtype) {
  return TensorDesc{shape, dtype, std::make_shared<CudnnLayout>(shape, dtype)};
}

bool cudnn_usable(std::string* why) {
  try {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      cudaGetLastError();
      if (why) *why = std::string("CUDA: ") + cudaGetErrorString(e);
      return false;
    }
    if (count == 0) {
      if (why) *why = "no CUDA device";
      return false;
    }
    if (cudnnGetVersion() / 10000 != CUDNN_MAJOR) {
      if (why)
        *why = "cuDNN library major version " + std::to_string(cudnnGetVersion()) +
               " does not match the headers";
      return false;
    }
    return true;
  } catch (...) {
    if (why) *why = "CUDA probe failed";
    return false;
  }
}

void CudnnBackend::Free::operator()(CUstream_st* p) const { cudaStreamDestroy(p); }
void CudnnBackend::Free::operator()(cudnnContext* p) const { cudnnDestroy(p); }
void CudnnBackend::Free::operator()(cublasContext* p) const { gpu::cublas_api().cublasDestroy_v2(p); }
void CudnnBackend::Free::operator()(void* pinned) const { cudaFreeHost(pinned); }

namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

}  // namespace

CudnnBackend::CudnnBackend(int device, DType compute)
    : device_(device),
      compute_(compute),
      sync_(env_flag("CXRTUNE_CUDA_SYNC")),
      benchmark_(env_flag("CXRTUNE_CUDNN_BENCHMARK")) {
  std::string why;
  if (!cudnn_usable(&why)) throw UsageError("backend 'cudnn': " + why);
  if (compute != DType::F32 && compute != DType::BF16 && compute != DType::F16)
    throw UsageError("backend 'cudnn': precision " + to_string(compute) + " (f32, bf16 or f16)");
  const std::string ctx = "creating the cudnn backend on device " + std::to_string(device);
  CXR_CHECK(cudaSetDevice(device), ctx);
  cudaDeviceProp prop{};
  CXR_CHECK(cudaGetDeviceProperties(&prop, device), ctx);
  sm_ = prop.major * 10 + prop.minor;
  if (compute == DType::BF16 && prop.major < 8)
    throw UsageError("backend 'cudnn': bf16 needs compute capability 8.0 or newer, " +
                     std::string(prop.name) + " is " + std::to_string(prop.major) + "." +
                     std::to_string(prop.minor));
  cudaStream_t stream = nullptr;
  CXR_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), ctx);
  stream_.reset(stream);
  cudnnHandle_t handle = nullptr;
  CXR_CHECK(cudnnCreate(&handle), ctx);
  cudnn_.reset(handle);
  CXR_CHECK(cudnnSetStream(handle, stream), ctx);
  cublasHandle_t blas = nullptr;
  CXR_CHECK(gpu::cublas_api().cublasCreate_v2(&blas), ctx);
  cublas_.reset(blas);
  CXR_CHECK(gpu::cublas_api().cublasSetStream_v2(blas, stream), ctx);
  // f32 GEMMs stay IEEE f32 (no TF32): the parity tests compare against the double reference.
  CXR_CHECK(gpu::cublas_api().cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH), ctx);
  size_t free_bytes = 0, total_bytes = 0;
  CXR_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes), ctx);
  workspace_limit_ = std::min<size_t>(size_t{1} << 30, free_bytes / 8);
  scalars_ = allocate(plain_desc({4}));  // [2] all_finite's int flag
  const int v = static_cast<int>(cudnnGetVersion());
  describe_ = "cudnn " + std::string(prop.name) + " (sm_" + std::to_string(sm_) + ", cuDNN " +
              std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
              std::to_string(v % 100) + ", " + to_string(compute) +
              (sync_ ? ", CXRTUNE_CUDA_SYNC" : "") +
              (benchmark_ ? ", measured algorithms" : "") + ")";
}

CudnnBackend::~CudnnBackend() {
  if (stream_) cudaStreamSynchronize(stream_.get());  // no work may outlive the buffers it uses
}

TensorDesc CudnnBackend::activation_desc(const Shape& shape) const {
  return shape.size() == 4 ? nhwc_desc(shape, compute_) : plain_desc(shape);
}

Tensor CudnnBackend::allocate(const TensorDesc& desc) {
  const int64_t bytes = desc.bytes();
  if (bytes < 0) throw GraphError("allocate: negative size for " + desc.str());
  // cudaMalloc(0) gives no pointer, and an undefined tensor would read as "missing".
  const size_t rounded = static_cast<size_t>(std::max<int64_t>(bytes, 256));
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, rounded);
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw BackendError("CUDA cudaMalloc of " + std::to_string(rounded) + " bytes for " +
                       desc.str() + " failed: " + cudaGetErrorString(e) + " (" +
                       std::to_string(free_bytes >> 20) + " of " + std::to_string(total >> 20) +
                       " MiB free)");
  }
  Tensor t = Tensor::owning(desc, Device::Cuda, p, [](void* q) { cudaFree(q); });
  CXR_CHECK(cudaMemsetAsync(p, 0, rounded, stream()), "allocate " + desc.str());
  return t;
}

void* CudnnBackend::pinned_staging(size_t bytes) {
  if (bytes > pinned_bytes_) {
    pinned_.reset();
    pinned_bytes_ = 0;
    void* p = nullptr;
    CXR_CHECK(cudaMallocHost(&p, bytes), "pinned staging of " + std::to_string(bytes) + " bytes");
    pinned_.reset(p);
    pinned_bytes_ = bytes;
  }
  return pinned_.get();
}

void* CudnnBackend::device_staging(size_t bytes) {
  if (!staging_.defined() || static_cast<size_t>(staging_.bytes()) < bytes)
    staging_ = allocate(plain_desc({static_cast<int64_t>((bytes + 3) / 4)}));
  return staging_.data();
}

void CudnnBackend::write_plain(Tensor& dst, const float* src) {
  const std::string ctx = "write_plain " + dst.desc().str();
  const size_t bytes = static_cast<size_t>(dst.numel()) * sizeof(float);
  if (dst.device() == Device::Cpu) {  // e.g. a tensor a test made on the host
    if (!dst.layout().is_plain() || dst.dtype() != DType::F32)
      throw GraphError(ctx + ": host tensor not plain f32");
    std::memcpy(dst.data(), src, bytes);
    return;
  }
  // Every user of the pinned buffer waits for its copy before returning, so it is free here.
  void* pinned = pinned_staging(bytes);
  std::memcpy(pinned, src, bytes);
  const TensorDesc plain = plain_desc(dst.shape());
  if (dst.desc().same_as(plain)) {
    CXR_CHECK(cudaMemcpyAsync(dst.data(), pinned, bytes, cudaMemcpyHostToDevice, stream()), ctx);
  } else {
    void* staged = device_staging(bytes);
    CXR_CHECK(cudaMemcpyAsync(staged, pinned, bytes, cudaMemcpyHostToDevice, stream()), ctx);
    gpu::convert(*this, staged, plain, dst.data(), dst.desc(), ctx);
  }
  synchronize();
}

void CudnnBackend::read_plain(const Tensor& src, float* dst) {
  const std::string ctx = "read_plain " + src.desc().str();
  const size_t bytes = static_cast<size_t>(src.numel()) * sizeof(float);
  if (src.device() == Device::Cpu) {
    if (!src.layout().is_plain() || src.dtype() != DType::F32)
      throw GraphError(ctx + ": host tensor not plain f32");
    std::memcpy(dst, src.data(), bytes);
    return;
  }
  void* pinned = pinned_staging(bytes);
  const TensorDesc plain = plain_desc(src.shape());
  const void* from = src.data();
  if (!src.desc().same_as(plain)) {
    void* staged = device_staging(bytes);
    gpu::convert(*this, src.data(), src.desc(), staged, plain, ctx);
    from = staged;
  }
  CXR_CHECK(cudaMemcpyAsync(pinned, from, bytes, cudaMemcpyDeviceToHost, stream()), ctx);
  synchronize();
  std::memcpy(dst, pinned, bytes);
}

void CudnnBackend::zero(Tensor& t) {
  CXR_CHECK(cudaMemsetAsync(t.data(), 0, static_cast<size_t>(t.bytes()), stream()),
            "zero " + t.desc().str());
}

void CudnnBackend::synchronize() { CXR_CHECK(cudaStreamSynchronize(stream()), "synchronize"); }

void CudnnBackend::sync_after(const char* pass, const std::string& where) {
  const std::string ctx = std::string(pass) + " of " + where + " (CXRTUNE_CUDA_SYNC)";
  CXR_CHECK(cudaGetLastError(), ctx);
  CXR_CHECK(cudaStreamSynchronize(stream()), ctx);
}

const CudnnBackend::ConvAlgo* CudnnBackend::conv_algo(const std::string& key) const {
  const auto it = conv_algos_.find(key);
  return it == conv_algos_.end() ? nullptr : &it->second;
}

void CudnnBackend::reserve_workspace(size_t bytes) {
  if (workspace_.defined() && workspace_bytes() >= bytes) return;
  synchronize();  // queued work may still use the old workspace
  workspace_ = Tensor();
  workspace_ = allocate(plain_desc({static_cast<int64_t>((bytes + 3) / 4)}));
}

namespace {

void require_f32(const Tensor& t, const char* what) {
  if (!t.defined() || t.device() != Device::Cuda || !t.layout().is_plain() ||
      t.dtype() != DType::F32)
    throw GraphError(std::string(what) + ": needs a plain f32 cudnn tensor, got " +
                     (t.defined() ? t.desc().str() : "undefined"));
}

}  // namespace

double CudnnBackend::sum_squares(const Tensor& t) {
  const Tensor* one[] = {&t};
  return sum_squares_many(one)[0];
}

// Device layout of reduction_: [pointers][lengths][partials: count·kSumBlocks][results: count];
// the pinned staging holds the pointers and lengths going in and the results coming back.
std::vector<double> CudnnBackend::sum_squares_many(std::span<const Tensor* const> tensors) {
  const size_t count = tensors.size();
  if (count == 0) return {};
  for (const Tensor* t : tensors) require_f32(*t, "sum_squares");
  const std::string ctx = "sum_squares of " + std::to_string(count) + " tensors";
  const size_t args_bytes = count * (sizeof(float*) + sizeof(int64_t));
  const size_t partial_bytes = count * gpu::kSumBlocks * sizeof(double);
  const size_t out_bytes = count * sizeof(double);
  const size_t total = args_bytes + partial_bytes + out_bytes;
  if (!reduction_.defined() || static_cast<size_t>(reduction_.bytes()) < total)
    reduction_ = allocate(plain_desc({static_cast<int64_t>((total + 7) / 4)}));
  char* dev = static_cast<char*>(reduction_.data());
  char* host = static_cast<char*>(pinned_staging(args_bytes + out_bytes));
  auto* host_ptrs = reinterpret_cast<const float**>(host);
  auto* host_lens = reinterpret_cast<int64_t*>(host + count * sizeof(float*));
  for (size_t i = 0; i < count; ++i) {
    host_ptrs[i] = tensors[i]->data_as<const float>();
    host_lens[i] = tensors[i]->numel();
  }
  CXR_CHECK(cudaMemcpyAsync(dev, host, args_bytes, cudaMemcpyHostToDevice, stream()), ctx);
  auto* partials = reinterpret_cast<double*>(dev + args_bytes);
  auto* results = reinterpret_cast<double*>(dev + args_bytes + partial_bytes);
  CXR_CHECK(gpu::sum_squares(reinterpret_cast<const float* const*>(dev),
                             reinterpret_cast<const int64_t*>(dev + count * sizeof(float*)),
                             static_cast<int>(count), partials, results, stream()),
            ctx);
  auto* host_out = reinterpret_cast<double*>(host + args_bytes);
  CXR_CHECK(cudaMemcpyAsync(host_out, results, out_bytes, cudaMemcpyDeviceToHost, stream()), ctx);
  synchronize();
  return std::vector<double>(host_out, host_out + count);
}

bool CudnnBackend::all_finite(const Tensor& t) {
  require_f32(t, "all_finite");
  const std::string ctx = "all_finite " + t.desc().str();
  int* bad = scalars_.data_as<int>() + 2;
  CXR_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), stream()), ctx);
  CXR_CHECK(gpu::count_nonfinite(t.data_as<const float>(), t.numel(), bad, stream()), ctx);
  auto* host = static_cast<int*>(pinned_staging(sizeof(int)));
  CXR_CHECK(cudaMemcpyAsync(host, bad, sizeof(int), cudaMemcpyDeviceToHost, stream()), ctx);
  synchronize();
  return *host == 0;
}

void CudnnBackend::scale(Tensor& t, double factor) {
  require_f32(t, "scale");
  CXR_CHECK(gpu::scale(t.data_as<float>(), t.numel(), static_cast<float>(factor), stream()),
            "scale " + t.desc().str());
}

// Constants computed exactly as HostBackend::adam_update does (optim_constants.h), so both round
// alike.
void CudnnBackend::adam_update(const AdamStep& s, Tensor& param, const Tensor& grad, Tensor& m,
                               Tensor& v) {
  for (const Tensor* t : std::initializer_list<const Tensor*>{&param, &grad, &m, &v})
    require_f32(*t, "adam_update");
  const gpu::AdamConstants c = gpu::adam_constants(s);
  CXR_CHECK(gpu::adam_update(param.data_as<float>(), grad.data_as<const float>(),
                             m.data_as<float>(), v.data_as<float>(), param.numel(), c, stream()),
            "adam_update " + param.desc().str());
}

void CudnnBackend::sgd_update(const SgdStep& s, Tensor& param, const Tensor& grad,
                              Tensor& momentum) {
  require_f32(param, "sgd_update");
  require_f32(grad, "sgd_update");
  if (momentum.defined()) require_f32(momentum, "sgd_update");
  const gpu::SgdConstants c = gpu::sgd_constants(s);
  CXR_CHECK(gpu::sgd_update(param.data_as<float>(), grad.data_as<const float>(),
                            momentum.defined() ? momentum.data_as<float>() : nullptr, param.numel(),
                            c, stream()),
            "sgd_update " + param.desc().str());
}

void CudnnBackend::copy(const Tensor& src, Tensor& dst) {
  if (!src.desc().same_as(dst.desc()))
    throw GraphError("copy: descriptors differ: " + src.desc().str() + " vs " + dst.desc().str());
  CXR_CHECK(cudaMemcpyAsync(dst.data(), src.data(), static_cast<size_t>(src.bytes()),
                            cudaMemcpyDeviceToDevice, stream()),
            "copy " + src.desc().str());
}

std::unique_ptr<Backend> make_cudnn_backend(int device, DType compute) {
  return std::make_unique<CudnnBackend>(device, compute);
}

}  // namespace cxr
