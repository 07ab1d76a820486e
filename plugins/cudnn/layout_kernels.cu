// Layout/type conversion, elementwise ops, bias and pooling kernels of the cuDNN backend.
// Memory-bound one-pass kernels with grid-stride loops; arithmetic in float, sums in double.
#include "plugins/cudnn/kernel_common.cuh"

namespace cxr::gpu {
namespace {

__device__ __forceinline__ void decode(Fmt f, const Dims& d, int64_t i, int64_t& n, int64_t& c,
                                       int64_t& h, int64_t& w) {
  if (f == Fmt::Nchw) {
    w = i % d.w, i /= d.w;
    h = i % d.h, i /= d.h;
    c = i % d.c, n = i / d.c;
  } else {
    c = i % d.c, i /= d.c;
    w = i % d.w, i /= d.w;
    h = i % d.h, n = i / d.h;
  }
}

template <class S, class D>
__global__ void convert_kernel(const S* src, Fmt sf, D* dst, Fmt df, Dims d) {
  CXR_GRID_STRIDE(i, d.count()) {
    int64_t n, c, h, w;
    decode(df, d, i, n, c, h, w);
    store(dst, i, load(src, offset(sf, d, n, c, h, w)));
  }
}

template <class T>
__global__ void relu_kernel(const T* x, T* y, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(y, i, fmaxf(load(x, i), 0.0f));
}

template <class T>
__global__ void relu_backward_kernel(const T* ref, const T* dy, T* dx, int64_t n) {
  CXR_GRID_STRIDE(i, n) store(dx, i, load(ref, i) > 0.0f ? load(dy, i) : 0.0f);
}

template <class T>
__global__ void add_kernel(const T* a, const T* b, T* y, bool relu, int64_t n) {
  CXR_GRID_STRIDE(i, n) {
    const float v = load(a, i) + load(b, i);
    store(y, i, relu ? fmaxf(v, 0.0f) : v);
  }
}

template <class T>
__global__ void bias_add_kernel(T* y, const float* bias, int64_t rows, int64_t c) {
  CXR_GRID_STRIDE(i, rows * c) store(y, i, load(y, i) + bias[i % c]);
}

template <class T>
__global__ void column_sum_kernel(const T* x, float* out, int64_t rows, int64_t c) {
  CXR_GRID_STRIDE(k, c) {
    double s = 0.0;
    for (int64_t r = 0; r < rows; ++r) s += load(x, r * c + k);
    out[k] = static_cast<float>(s);
  }
}

// One thread per output element; window scanned in row-major order, strict > keeps the first
// maximum, NaN propagates as in PyTorch.
template <class T>
__global__ void maxpool_kernel(const T* x, T* y, int32_t* argmax, Fmt f, Dims in, PoolGeometry g) {
  const Dims out{in.n, in.c, g.oh, g.ow};
  CXR_GRID_STRIDE(i, out.count()) {
    int64_t n, c, oh, ow;
    decode(f, out, i, n, c, oh, ow);
    float best = -INFINITY;
    int32_t where = -1;
    for (int64_t kh = 0; kh < g.kernel; ++kh) {
      const int64_t h = oh * g.stride - g.padding + kh;
      if (h < 0 || h >= in.h) continue;
      for (int64_t kw = 0; kw < g.kernel; ++kw) {
        const int64_t w = ow * g.stride - g.padding + kw;
        if (w < 0 || w >= in.w) continue;
        const float v = load(x, offset(f, in, n, c, h, w));
        if (v > best || isnan(v) || where < 0) {
          best = v;
          where = static_cast<int32_t>(h * in.w + w);
          if (isnan(v)) goto done;
        }
      }
    }
  done:
    store(y, i, best);
    if (argmax) argmax[i] = where;
  }
}

// One thread per input element: sums dy over the (at most ceil(k/s)² ) windows whose maximum it
// was.
template <class T>
__global__ void maxpool_backward_kernel(const T* dy, const int32_t* argmax, T* dx, Fmt f, Dims in,
                                        PoolGeometry g) {
  const Dims out{in.n, in.c, g.oh, g.ow};
  CXR_GRID_STRIDE(i, in.count()) {
    int64_t n, c, h, w;
    decode(f, in, i, n, c, h, w);
    const int32_t me = static_cast<int32_t>(h * in.w + w);
    // Windows oh with oh·s − p ≤ h ≤ oh·s − p + k − 1.
    const int64_t oh_lo = (h + g.padding - g.kernel + g.stride) / g.stride,
                  oh_hi = (h + g.padding) / g.stride;
    const int64_t ow_lo = (w + g.padding - g.kernel + g.stride) / g.stride,
                  ow_hi = (w + g.padding) / g.stride;
    const int64_t oh0 = oh_lo < 0 ? 0 : oh_lo, oh1 = oh_hi < g.oh ? oh_hi : g.oh - 1;
    const int64_t ow0 = ow_lo < 0 ? 0 : ow_lo, ow1 = ow_hi < g.ow ? ow_hi : g.ow - 1;
    float sum = 0.0f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const int64_t o = offset(f, out, n, c, oh, ow);
        if (argmax[o] == me) sum += load(dy, o);
      }
    store(dx, i, sum);
  }
}

template <class T>
__global__ void avgpool_kernel(const T* x, T* y, Fmt f, Dims in) {
  CXR_GRID_STRIDE(i, in.n * in.c) {
    const int64_t n = i / in.c, c = i % in.c;
    double s = 0.0;
    for (int64_t h = 0; h < in.h; ++h)
      for (int64_t w = 0; w < in.w; ++w) s += load(x, offset(f, in, n, c, h, w));
    store(y, i, static_cast<float>(s / static_cast<double>(in.h * in.w)));
  }
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
