// The input gradient of a bf16 nhwc 3×3 stride-2 convolution with padding 1 (bf16 on an AMX CPU,
// onednn_backend.h; ResNet's strided 3×3s) as four stride-1 forward convolutions of dy, one per
// parity of the input pixel, whose outputs are interleaved into dx.
//
// Why: forward h = 2·oh − 1 + kh, so an even input row 2i is reached only by tap kh = 1 from
// output row i, and an odd row 2i + 1 by kh = 2 from row i and kh = 0 from row i + 1; columns the
// same. For each parity (a, b) of (row, column), dx restricted to those pixels is a stride-1
// correlation of dy with a 1×1, 1×2, 2×1 or 2×2 kernel: V_ab[c][k][u][v] = W[k][c][th_a[u]][tw_b[v]]
// with th_0 = {1}, th_1 = {2, 0} (tap u reads dy row i + u), padded by one zero row or column at
// the end where the input has an even size. Those run as oneDNN 2.6's AMX forward kernels
// (brgconv), where its AMX backward data (jit:avx512_core_amx_bf16) is slow on strided shapes:
// ResNet-50's three, batch 32, 2 threads, Xeon family 6 model 167: 12.5, 10.6 and 13.1 ms by the
// backward data; 4.3 + 1.1, 3.4 + 0.5 and 4.7 + 0.3 ms by the four convolutions + interleave.
//
// Contract (run): weights plain OIHW f32 [K, C, 3, 3] (the parameter), dy nhwc bf16 [N, OH, OW, K],
// dx nhwc bf16 [N, H, W, C], OVERWRITTEN. The four sub-kernels are cut from the weights and
// rounded to bf16 (nearest even) in the backend's weight scratch, then reordered to the kernels'
// layouts there; the four outputs pass through the activation scratch. bf16×bf16 products are
// exact in f32 and the sums are f32, so dx differs from the convolution's only in the order of
// the sums before the one rounding to bf16 (tests/layers/onednn_conv_polyphase_test.cpp).
// When (wanted): bf16 in nhwc, src arriving in nhwc, 3×3, stride 2, padding 1.
#pragma once
#include <array>
#include <string>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::dnn {

class PolyphaseDataGradient {
 public:
  PolyphaseDataGradient() = default;
  // `src_in`: the descriptor src arrives in; `src`, `dst`: the forward convolution's.
  static bool wanted(const ops::Conv2dParams& p, const dnnl::memory::desc& src_in, const dnnl::memory::desc& src,
                     const dnnl::memory::desc& dst, const OnednnBackend& backend);
  PolyphaseDataGradient(const ops::Conv2dParams& p, const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                        OnednnBackend& backend);

  void run(const float* weights, const void* dy, void* dx);
  explicit operator bool() const { return built_; }

 private:
  // One parity (a, b): its rows and columns of dx, its kernel's taps, where its pieces live.
  struct Phase {
    int64_t rows = 0, cols = 0;        // dx pixels of this parity (0 on a 1-pixel-wide map)
    int64_t taps_h = 0, taps_w = 0;    // 1 or 2
    size_t plain_at = 0, kernel_at = 0;  // byte offsets in the weight scratch
    size_t out_at = 0;                 // byte offset of its output in the activation scratch
    Op reorder, conv;
  };
  void cut_kernels(const float* weights) const;
  void interleave(void* dx) const;

  OnednnBackend* be_ = nullptr;
  std::string name_;
  bool built_ = false;
  int64_t n_ = 0, c_ = 0, k_ = 0, h_ = 0, w_ = 0;
  std::array<Phase, 4> phases_;  // index 2·a + b
};

}  // namespace cxr::dnn
