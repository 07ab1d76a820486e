// The input gradient of a bf16 nhwc 1×1 stride-1 convolution without padding (bf16 on an AMX CPU,
// onednn_backend.h) as one oneDNN matmul on the AMX brgemm ("brg:avx512_core_amx_bf16"):
// dx[R, C] = dy[R, K] · W[K, C], R = N·H·W, all three read and written in place (nhwc is
// row-major [R, channels]; OIHW weights of a 1×1 are row-major [K, C]).
//
// Why: oneDNN 2.6's AMX convolution backward data (jit:avx512_core_amx_bf16) took 107 ms of a
// ResNet-50 bf16 step on these shapes (batch 32, 2 threads, Xeon family 6 model 167), 1.2–1.5×
// what PyTorch's oneDNN 3.13 needs (bench/onednn_versions.py). The same products as matmuls ran
// 1.4–2.1× faster than the 2.6 convolution: 2.2 ms for [100352, 256]·[256, 64] (4.5 by the
// convolution), 1.5 for [6272, 1024]·[1024, 256] (2.4), 2.1 for [1568, 2048]·[2048, 512] (2.9),
// with non-zero data.
//
// Contract (run): weights plain OIHW f32 [K, C, 1, 1] (the parameter), dy nhwc bf16 [N, H, W, K],
// dx nhwc bf16 [N, H, W, C], OVERWRITTEN. The weights go to bf16 [K, C] in the backend's weight
// scratch first (one reorder, as oneDNN's own backward data reorders them to its layout).
// bf16×bf16 products are exact in f32 and the sums are f32, so dx differs from the
// convolution's only in the order of those sums before the one rounding to bf16
// (tests/layers/onednn_conv_weight_gradient_test.cpp).
// When (wanted): bf16 in nhwc, src arriving in nhwc, 1×1, stride 1, no padding.
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
  OnednnBackend* be_ = nullptr;
  std::string name_;
  Op to_bf16_, matmul_;
};

}  // namespace cxr::dnn
