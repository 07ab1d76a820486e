// Batch-norm kernels around cuDNN's: the output from the saved batch statistics (the training
// forward's output, written the same way whether first computed or recomputed), and the fused
// ReLU's mask applied to dy from that same recomputed output (so backward never reads y).
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

template <class T>
__global__ void batchnorm_apply_kernel(const T* x, T* y, const float* mean, const float* inv_std,
                                       const float* gamma, const float* beta, bool fuse_relu, Fmt f,
                                       Dims d) {
  CXR_GRID_STRIDE(i, d.count()) {
    const int64_t c = channel_of(f, d, i);
    store(y, i, batchnorm(load(x, i), mean[c], inv_std[c], gamma[c], beta[c], fuse_relu));
  }
}

template <class T>
__global__ void batchnorm_relu_grad_kernel(const T* x, const T* dy, T* g, const float* mean,
                                           const float* inv_std, const float* gamma,
                                           const float* beta, Fmt f, Dims d) {
  CXR_GRID_STRIDE(i, d.count()) {
    const int64_t c = channel_of(f, d, i);
    store(g, i, batchnorm_relu_grad<T>(load(x, i), load(dy, i), mean[c], inv_std[c], gamma[c], beta[c]));
  }
}

}  // namespace

cudaError_t batchnorm_apply(const void* x, void* y, const BatchNormStats& st, bool fuse_relu,
                            DType t, Fmt f, Dims d, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    batchnorm_apply_kernel<<<blocks_for(d.count()), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(y), st.mean, st.inv_std, st.gamma, st.beta,
        fuse_relu, f, d);
  });
}

cudaError_t batchnorm_relu_grad(const void* x, const void* dy, void* g, const BatchNormStats& st,
                                DType t, Fmt f, Dims d, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    batchnorm_relu_grad_kernel<<<blocks_for(d.count()), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(g), st.mean,
        st.inv_std, st.gamma, st.beta, f, d);
  });
}

}  // namespace cxr::gpu
