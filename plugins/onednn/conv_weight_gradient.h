// The weight gradient of a bf16 nhwc convolution (bf16 on an AMX CPU, onednn_backend.h) as one
// oneDNN matmul, which runs on oneDNN's AMX brgemm ("brg:avx512_core_amx_bf16").
//
// Why: oneDNN 2.6's AMX convolution weight gradient is slow for most of ResNet-50's shapes
// (12–57 GFLOP/s for 1×1 convolutions that narrow the channels and 3×3 on 14×14; the nChw16c
// AVX512_BF16 kernel does 39–97), and was most of a bf16 training step. The same product as a
// matmul over the nhwc tensors ran at 146–414 GFLOP/s (ResNet-50's 1×1 shapes, batch 32, Xeon
// family 6 model 167, 2 threads; microbenchmarks with non-zero data: zero-filled tensors run
// several times faster on AMX and overstate it).
// Measured in ResNet-50 bf16 training, batch 32, 224 px, 2 threads, on that Xeon (load average
// 5–6 from other builds: noisy), conv2d backward ms (data + weights) per layer, before → after:
// narrowing 1×1 174–203 → 56–76; 1×1 stride 2 downsample 148–346 → 81–100; widening 1×1 56–82
// → 32–65; 3×3 stride 2 319–431 → 94–112; 3×3 stride 1 on 14×14 145–180 → 65–80, on 7×7
// 332–403 → 82–91. All conv2d backward 6875–7120 → 3034 ms; the step 2.17–2.80 → 4.56–4.59
// img/s. Made a matmul too, 3×3 stride 1 on 56×56 went 51–67 → 132–138 ms and on 28×28 44–56 →
// 64–87 ms: those keep oneDNN's AMX convolution (the rule in conv_weight_gradient.cpp).
//
// Contract (run): src x is nhwc bf16 [N, H, W, C], dy nhwc bf16 [N, OH, OW, K] (the
// convolution's output gradient), dw plain OIHW f32 [K, C, kh, kw], OVERWRITTEN (never
// accumulated), as convolution_backward_weights writes it. No bias (those convolutions keep
// oneDNN's convolution). Let R = N·OH·OW:
// - 1×1, stride 1, no padding: dw[K, C] = dyᵀ[K, R] · x[R, C], both read in place (dy's transpose
//   is the stride pair {1, K}); [K, C] is already OIHW.
// - otherwise: im2col of x into the backend's activation scratch, col[R, kh·kw·C] bf16 with the
//   columns in [kh][kw][C] order (contiguous C-runs of nhwc, zeros where the window covers
//   padding); dw'[K, kh·kw·C] = dyᵀ · col in f32; a reorder of dw' (OHWI) to OIHW (in the weight
//   scratch first; for a 1×1 stride 2 dw' already is OIHW and is written in place).
// bf16×bf16 products are exact in f32, so the result differs from the convolution's only by the
// order of the f32 sums (tests/layers/onednn_conv_weight_gradient_test.cpp).
//
// When (wanted): the backend computes in bf16 in nhwc, src arrives in nhwc (the first
// convolution, C=3 from plain nchw, keeps its path), no bias, and the shape is one where this
// measured faster than oneDNN's AMX convolution (conv_weight_gradient.cpp says which).
// Primitives are built once, in the constructor (prepare), and reserve the shared scratchpad,
// activation and weight scratch they use; run() allocates nothing.
#pragma once
#include <string>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::dnn {

class MatmulWeightGradient {
 public:
  MatmulWeightGradient() = default;
  // `src_in`: the descriptor src arrives in; `src`, `dst`: the forward convolution's.
  static bool wanted(const ops::Conv2dParams& p, const dnnl::memory::desc& src_in, const dnnl::memory::desc& src,
                     const dnnl::memory::desc& dst, const OnednnBackend& backend);
  MatmulWeightGradient(const ops::Conv2dParams& p, const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                       OnednnBackend& backend);

  void run(const void* src, const void* dy, void* dw);
  explicit operator bool() const { return static_cast<bool>(matmul_); }

 private:
  void im2col(const void* src, void* col) const;

  OnednnBackend* be_ = nullptr;
  std::string name_;
  int64_t n_ = 0, c_ = 0, h_ = 0, w_ = 0, oh_ = 0, ow_ = 0, k_ = 1, stride_ = 1, pad_ = 0;
  bool im2col_ = false;  // false: the matmul reads src in place (1×1, stride 1, no padding)
  Op matmul_, permute_;  // permute_: dw' OHWI → OIHW (kernels over 1×1 only)
};

}  // namespace cxr::dnn
