// Layout/type conversion, elementwise ops, bias and pooling kernels of the cuDNN backend.
// Memory-bound one-pass kernels with grid-stride loops; arithmetic in float, sums in double.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

template <class S, class D>
__global__ void convert_kernel(const S* src, Fmt sf, D* dst, Fmt df, Dims d) {
  CXR_GRID_STRIDE(i, d.count()) {
    store(dst, i, load(src, convert_source(sf, df, d, i)));
  }
}

template <class T>
__global__ void relu_kernel(const T* x, T* y, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(y, i, relu(load(x, i)));
}

template <class T>
__global__ void relu_backward_kernel(const T* ref, const T* dy, T* dx, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(dx, i, relu_grad(load(ref, i), load(dy, i)));
}

template <class T>
__global__ void add_kernel(const T* a, const T* b, T* y, bool relu, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(y, i, add(load(a, i), load(b, i), relu));
}

template <class T>
__global__ void bias_add_kernel(T* y, const float* bias, int64_t rows, int64_t c) {
  CXR_GRID_STRIDE(i, rows * c) store(y, i, load(y, i) + bias[i % c]);
}

template <class T>
__global__ void column_sum_kernel(const T* x, float* out, int64_t rows, int64_t c) {
  CXR_GRID_STRIDE(k, c) out[k] = gpu::column_sum(x, rows, c, k);
}

// One thread per output element (maxpool_window: first maximum, NaN wins).
template <class T>
__global__ void maxpool_kernel(const T* x, T* y, int32_t* argmax, Fmt f, Dims in, PoolGeometry g) {
  const Dims out{in.n, in.c, g.oh, g.ow};
  CXR_GRID_STRIDE(i, out.count()) {
    int64_t n, c, oh, ow;
    decode(f, out, i, n, c, oh, ow);
    int32_t where = -1;
    store(y, i, maxpool_window(x, f, in, g, n, c, oh, ow, where));
    if (argmax) argmax[i] = where;
  }
}

// One thread per input element: a gather over the windows it was the maximum of (no atomics).
template <class T>
__global__ void maxpool_backward_kernel(const T* dy, const int32_t* argmax, T* dx, Fmt f, Dims in,
                                        PoolGeometry g) {
  CXR_GRID_STRIDE(i, in.count()) {
    int64_t n, c, h, w;
    decode(f, in, i, n, c, h, w);
    store(dx, i, maxpool_input_grad(dy, argmax, f, in, g, n, c, h, w));
  }
}

template <class T>
__global__ void avgpool_kernel(const T* x, T* y, Fmt f, Dims in) {
  CXR_GRID_STRIDE(i, in.n * in.c) store(y, i, avgpool_mean(x, f, in, i / in.c, i % in.c));
}

template <class T>
__global__ void avgpool_backward_kernel(const T* dy, T* dx, Fmt f, Dims in) {
  const float inv = 1.0f / static_cast<float>(in.h * in.w);
  CXR_GRID_STRIDE(i, in.count()) {
    int64_t n, c, h, w;
    decode(f, in, i, n, c, h, w);
    store(dx, i, load(dy, n * in.c + c) * inv);
  }
}

}  // namespace

cudaError_t convert(const void* src, DType st, Fmt sf, void* dst, DType dt, Fmt df, Dims d,
                    cudaStream_t s) {
  if (d.count() == 0) return cudaSuccess;
  if (st == dt && (sf == df || (d.h == 1 && d.w == 1)))
    return cudaMemcpyAsync(dst, src, static_cast<size_t>(d.count() * dtype_size(st)),
                           cudaMemcpyDeviceToDevice, s);
  cudaError_t inner = cudaSuccess;
  const cudaError_t outer = dispatch(st, [&](auto stag) {
    using S = decltype(stag);
    inner = dispatch(dt, [&](auto dtag) {
      using D = decltype(dtag);
      convert_kernel<S, D><<<blocks_for(d.count()), kThreads, 0, s>>>(
          static_cast<const S*>(src), sf, static_cast<D*>(dst), df, d);
    });
  });
  return inner != cudaSuccess ? inner : outer;
}

cudaError_t relu_forward(const void* x, void* y, DType t, int64_t n, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    relu_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y), n);
  });
}

cudaError_t relu_backward(const void* ref, const void* dy, void* dx, DType t, int64_t n,
                          cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    relu_backward_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const T*>(ref), static_cast<const T*>(dy), static_cast<T*>(dx), n);
  });
}

cudaError_t add_forward(const void* a, const void* b, void* y, bool relu, DType t, int64_t n,
                        cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    add_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), relu, n);
  });
}

cudaError_t bias_add(void* y, DType t, const float* bias, int64_t rows, int64_t c, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    bias_add_kernel<<<blocks_for(rows * c), kThreads, 0, s>>>(static_cast<T*>(y), bias, rows, c);
  });
}

cudaError_t column_sum(const void* x, DType t, float* out, int64_t rows, int64_t c,
                       cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    column_sum_kernel<<<blocks_for(c), kThreads, 0, s>>>(static_cast<const T*>(x), out, rows, c);
  });
}

cudaError_t maxpool_forward(const void* x, void* y, int32_t* argmax, DType t, Fmt f, Dims in,
                            PoolGeometry g, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    maxpool_kernel<<<blocks_for(in.n * in.c * g.oh * g.ow), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(y), argmax, f, in, g);
  });
}

cudaError_t maxpool_backward(const void* dy, const int32_t* argmax, void* dx, DType t, Fmt f,
                             Dims in, PoolGeometry g, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    maxpool_backward_kernel<<<blocks_for(in.count()), kThreads, 0, s>>>(
        static_cast<const T*>(dy), argmax, static_cast<T*>(dx), f, in, g);
  });
}

cudaError_t avgpool_forward(const void* x, void* y, DType t, Fmt f, Dims in, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    avgpool_kernel<<<blocks_for(in.n * in.c), kThreads, 0, s>>>(static_cast<const T*>(x),
                                                                static_cast<T*>(y), f, in);
  });
}

cudaError_t avgpool_backward(const void* dy, void* dx, DType t, Fmt f, Dims in, cudaStream_t s) {
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    avgpool_backward_kernel<<<blocks_for(in.count()), kThreads, 0, s>>>(static_cast<const T*>(dy),
                                                                        static_cast<T*>(dx), f, in);
  });
}

}  // namespace cxr::gpu
