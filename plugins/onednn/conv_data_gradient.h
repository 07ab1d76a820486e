// The input gradient of a bf16 nhwc 1×1 convolution without padding (bf16 on an AMX CPU,
// onednn_backend.h) as one oneDNN matmul on the AMX brgemm ("brg:avx512_core_amx_bf16"):
// dx[R, C] = dy[R, K] · W[K, C], R = N·OH·OW (nhwc is row-major [R, channels]; OIHW weights of a
// 1×1 are row-major [K, C]).
// - stride 1: R = N·H·W, all three read and written in place.
// - stride s > 1: the convolution reads only the pixels (s·i, s·j), so only they get a gradient.
//   The matmul writes the compact [N·OH·OW, C] into the backend's activation scratch, and one
//   pass scatters it into dx, with zeros at every other pixel. (A matmul writing the strided dx
//   directly falls to oneDNN's gemm:jit at 157–171 GFLOP/s.)
//
// Why: oneDNN 2.6's AMX convolution backward data (jit:avx512_core_amx_bf16) took 107 ms of a
// ResNet-50 bf16 step on the stride-1 shapes (batch 32, 2 threads, Xeon family 6 model 167),
// 1.2–1.5× what PyTorch's oneDNN 3.13 needs (bench/onednn_versions.py). The same products as
// matmuls ran 1.4–2.1× faster than the 2.6 convolution: 2.2 ms for [100352, 256]·[256, 64] (4.5 by
// the convolution), 1.5 for [6272, 1024]·[1024, 256] (2.4), 2.1 for [1568, 2048]·[2048, 512] (2.9),
// with non-zero data. The three stride-2 downsample shapes, same machine (a slower hour): 19.3,
// 22.1 and 18.3 ms by the convolution; 6.1 + 4.0, 6.0 + 0.7 and 5.0 + 0.3 ms by matmul + scatter.
//
// Contract (run): weights plain OIHW f32 [K, C, 1, 1] (the parameter), dy nhwc bf16 [N, OH, OW, K],
// dx nhwc bf16 [N, H, W, C], OVERWRITTEN. The weights go to bf16 [K, C] in the backend's weight
// scratch first (one reorder, as oneDNN's own backward data reorders them to its layout).
// bf16×bf16 products are exact in f32 and the sums are f32, so dx differs from the
// convolution's only in the order of those sums before the one rounding to bf16
// (tests/layers/onednn_conv_weight_gradient_test.cpp).
// When (wanted): bf16 in nhwc, src arriving in nhwc, 1×1, no padding, any stride.
#pragma once
#include <string>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::dnn {

class MatmulDataGradient {
 public:
  MatmulDataGradient() = default;
  // `src_in`: the descriptor src arrives in; `src`, `dst`: the forward convolution's.
  static bool wanted(const ops::Conv2dParams& p, const dnnl::memory::desc& src_in, const dnnl::memory::desc& src,
                     const dnnl::memory::desc& dst, const OnednnBackend& backend);
  MatmulDataGradient(const ops::Conv2dParams& p, const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                     OnednnBackend& backend);

  void run(const void* weights, const void* dy, void* dx);
  explicit operator bool() const { return static_cast<bool>(matmul_); }

 private:
  // dx (nhwc) from the compact gradient of the sampled pixels in the activation scratch.
  void scatter(void* dx) const;

  OnednnBackend* be_ = nullptr;
  std::string name_;
  Op to_bf16_, matmul_;
  int64_t n_ = 0, h_ = 0, w_ = 0, c_ = 0, stride_ = 1, oh_ = 0, ow_ = 0;
};

}  // namespace cxr::dnn
