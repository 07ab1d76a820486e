// The bf16 nhwc convolution weight gradient as a oneDNN matmul (plugins/onednn/
// conv_weight_gradient.h) on an AMX CPU: 1×1 stride 1 (in place), 1×1 stride 2 and 3×3 stride 1
// and 2 with padding (im2col, then OHWI → OIHW), small batches and odd, non-square maps.
// bf16×bf16 products are exact in f32, so against a float64 sum of the SAME bf16-rounded
// inputs only the f32 summation order differs: ‖dw − ref‖ ≤ 1e-5 ‖ref‖ (a wrong im2col column,
// padding row or permutation is off by O(‖ref‖)). The same bound against oneDNN's own
// convolution weight gradient on the same bf16 memory. Both the conv2d layer (its backward, over
// a NaN-filled gradient: the gradient is overwritten) and the class alone. Without AMX the
// path is never taken: a visible skip.
// The input gradient of a 1×1 convolution as a matmul (conv_data_gradient.h), the same way: the
// layer's dx (over a NaN-filled buffer) against a float64 sum of the same bf16 dy and bf16-rounded
// weights (only the f32 summation order and the one rounding to bf16 differ: ‖dx − ref‖ ≤ 4e-3
// ‖ref‖, where a transposed or misplaced operand is off by O(‖ref‖)), and against oneDNN's own
// convolution backward data on the same memory. Strides 2 and 3 on even and odd maps: the pixels
// the convolution skips must be exactly zero (a NaN left there, or a gradient scattered one pixel
// off, fails).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/bf16_lanes.h"
#include "plugins/onednn/conv_data_gradient.h"
#include "plugins/onednn/conv_weight_gradient.h"
#include "tests/layers/onednn_conv_oracles.h"
#include "tests/layers/test_registry.h"

namespace cxr {
namespace {

using dnnl::memory;
using tag = memory::format_tag;

struct Shape4 {
  int64_t n, c, k, h, w, kernel, stride, pad;
};

using conv_oracles::relative_error;
using conv_oracles::normal_values;

// dw[k][c][i][j] = Σ dy[n][k][oh][ow] · x[n][c][oh·s − p + i][ow·s − p + j], in double (plain nchw).
std::vector<double> reference(const Shape4& s, int64_t oh, int64_t ow, const std::vector<float>& x,
                              const std::vector<float>& dy) {
  std::vector<double> dw(static_cast<size_t>(s.k * s.c * s.kernel * s.kernel), 0.0);
  for (int64_t k = 0; k < s.k; ++k)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t i = 0; i < s.kernel; ++i)
        for (int64_t j = 0; j < s.kernel; ++j) {
          double sum = 0;
          for (int64_t n = 0; n < s.n; ++n)
            for (int64_t y = 0; y < oh; ++y)
              for (int64_t z = 0; z < ow; ++z) {
                const int64_t ih = y * s.stride - s.pad + i, iw = z * s.stride - s.pad + j;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                sum += static_cast<double>(dy[static_cast<size_t>(((n * s.k + k) * oh + y) * ow + z)]) *
                       x[static_cast<size_t>(((n * s.c + c) * s.h + ih) * s.w + iw)];
              }
          dw[static_cast<size_t>(((k * s.c + c) * s.kernel + i) * s.kernel + j)] = sum;
        }
  return dw;
}

// The case's bf16 conv2d layer on the oneDNN backend, prepared for training, with its descriptors.
struct PreparedConv {
  OnednnBackend be{2, DType::BF16};
  ops::Conv2dParams p;
  TensorDesc in, out;
  std::unique_ptr<Layer> layer;
  memory::desc src_md, dst_md;
  explicit PreparedConv(const Shape4& s) {
    p.in_channels = s.c, p.out_channels = s.k, p.kernel = s.kernel, p.stride = s.stride, p.padding = s.pad;
    in = be.activation_desc({s.n, s.c, s.h, s.w});
    layer = swept_registry().create(p, be);
    const TensorDesc in_descs[1] = {in};
    out = layer->prepare(in_descs, PrepareInfo{});
    src_md = dnn::md_of(in), dst_md = dnn::md_of(out);
  }
};

class OnednnConvWeightGradient : public ::testing::TestWithParam<Shape4> {};

TEST_P(OnednnConvWeightGradient, Bf16MatmulEqualsFloat64AndOnednnConvolution) {
  if (!OnednnBackend::has_amx())
    GTEST_SKIP() << "no AMX on this CPU (" << OnednnBackend::isa_name()
                 << "): bf16 runs channel-blocked and its weight gradient is oneDNN's convolution";
  const Shape4 s = GetParam();
  PreparedConv prepared(s);
  auto& [be, p, in, out, layer, src_md, dst_md] = prepared;
  const int64_t oh = out.shape[2], ow = out.shape[3];
  ASSERT_TRUE(dnn::MatmulWeightGradient::wanted(p, src_md, src_md, dst_md, be)) << p.str() << " takes the other path";

  // Inputs rounded to bf16 by the backend, read back: the reference sums exactly those values.
  Tensor x = be.allocate(in), y = be.allocate(out), dy = be.allocate(out), dx = be.allocate(in);
  std::vector<float> xv = normal_values(numel(in.shape), 1), dyv = normal_values(numel(out.shape), 2);
  be.write_plain(x, xv.data());
  be.read_plain(x, xv.data());
  be.write_plain(dy, dyv.data());
  be.read_plain(dy, dyv.data());
  const std::vector<double> want = reference(s, oh, ow, xv, dyv);

  Context ctx;
  const Tensor* xs[1] = {&x};
  Tensor* dxs[1] = {&dx};
  layer->forward(xs, y, ctx);
  Tensor& grad = layer->parameters()[0].grad;
  std::fill_n(grad.data_as<float>(), grad.numel(), std::numeric_limits<float>::quiet_NaN());
  layer->backward(xs, y, dy, dxs, ctx);
  const double layer_err = relative_error(grad.data_as<float>(), want);
  EXPECT_LE(layer_err, 1e-5) << p.str() << " layer vs float64";

  // The class alone, over a NaN-filled output.
  dnn::MatmulWeightGradient direct(p, src_md, dst_md, be);
  std::vector<float> dw(want.size(), std::numeric_limits<float>::quiet_NaN());
  direct.run(x.data(), dy.data(), dw.data());
  const double direct_err = relative_error(dw.data(), want);
  EXPECT_LE(direct_err, 1e-5) << p.str() << " matmul vs float64";

  // oneDNN's own convolution weight gradient on the same bf16 memory, f32 plain OIHW out.
  auto& eng = be.engine();
  const memory::desc w_md(dnn::dims_of(p.weight_shape()), memory::data_type::bf16, tag::any);
  const memory::desc dw_md(dnn::dims_of(p.weight_shape()), memory::data_type::f32, tag::any);
  const memory::dims st{s.stride, s.stride}, pad{s.pad, s.pad};
  const auto alg = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src_md, w_md, dst_md, st, pad, pad), eng);
  const dnnl::convolution_backward_weights::primitive_desc bw(
      dnnl::convolution_backward_weights::desc(alg, src_md, dw_md, dst_md, st, pad, pad), eng, fwd);
  std::vector<float> conv(want.size());
  memory ms(src_md, eng, x.data()), mdy(dst_md, eng, dy.data()), mdw(bw.diff_weights_desc(), eng);
  memory plain(memory::desc(dnn::dims_of(p.weight_shape()), memory::data_type::f32, tag::oihw), eng, conv.data());
  dnnl::convolution_backward_weights(bw).execute(
      be.stream(), {{DNNL_ARG_SRC, ms}, {DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_DIFF_WEIGHTS, mdw}});
  dnnl::reorder(mdw, plain).execute(be.stream(), mdw, plain);  // from the kernel's layout
  be.stream().wait();
  std::vector<double> conv_d(conv.begin(), conv.end());
  const double conv_err = relative_error(grad.data_as<float>(), conv_d);
  EXPECT_LE(conv_err, 1e-5) << p.str() << " vs " << bw.impl_info_str();
  std::printf("[%s on %s] relative error: layer %.1e, matmul %.1e vs float64; %.1e vs %s\n", p.str().c_str(),
              in.str().c_str(), layer_err, direct_err, conv_err, bw.impl_info_str());
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnConvWeightGradient,
                         ::testing::Values(Shape4{3, 32, 24, 7, 5, 1, 1, 0},    // 1×1 s1, in place
                                           Shape4{2, 48, 64, 9, 7, 1, 2, 0},    // 1×1 s2 downsample
                                           Shape4{3, 16, 32, 9, 11, 3, 1, 1},   // 3×3 s1 p1
                                           Shape4{2, 64, 64, 5, 5, 3, 1, 1},    // 3×3 s1 p1, wider
                                           Shape4{4, 32, 16, 7, 7, 3, 2, 1},    // 3×3 s2 p1, odd map
                                           Shape4{2, 24, 40, 8, 6, 3, 2, 1}),  // 3×3 s2 p1, even map
                         [](const auto& info) {
                           const Shape4& s = info.param;
                           char name[64];
                           std::snprintf(name, sizeof name, "k%lds%ld_C%ldK%ld_%ldx%ld", long(s.kernel), long(s.stride),
                                         long(s.c), long(s.k), long(s.h), long(s.w));
                           return std::string(name);
                         });

class OnednnConvDataGradient : public ::testing::TestWithParam<Shape4> {};

TEST_P(OnednnConvDataGradient, Bf16MatmulEqualsFloat64AndOnednnConvolution) {
  if (!OnednnBackend::has_amx())
    GTEST_SKIP() << "no AMX on this CPU (" << OnednnBackend::isa_name()
                 << "): bf16 runs channel-blocked and its input gradient is oneDNN's convolution";
  const Shape4 s = GetParam();
  PreparedConv prepared(s);
  auto& [be, p, in, out, layer, src_md, dst_md] = prepared;
  ASSERT_TRUE(dnn::MatmulDataGradient::wanted(p, src_md, src_md, dst_md, be)) << p.str() << " takes the other path";

  Tensor x = be.allocate(in), y = be.allocate(out), dy = be.allocate(out), dx = be.allocate(in);
  std::vector<float> xv = normal_values(numel(in.shape), 3), dyv = normal_values(numel(out.shape), 4);
  be.write_plain(x, xv.data());
  be.write_plain(dy, dyv.data());
  be.read_plain(dy, dyv.data());
  Tensor& w = layer->parameters()[0].value;
  const std::vector<float> wv = normal_values(w.numel(), 5);
  std::copy(wv.begin(), wv.end(), w.data_as<float>());
  // dx[n][c][h][w] = Σ_k dy[n][k][h/s][w/s] · bf16(W[k][c]) where s divides h and w, else 0, in
  // double (plain nchw).
  const int64_t oh = out.shape[2], ow = out.shape[3];
  std::vector<double> want(static_cast<size_t>(s.n * s.c * s.h * s.w), 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t k = 0; k < s.k; ++k) {
        const double wkc = dnn::bf16_portable::bf16_to_float(dnn::bf16_portable::float_to_bf16(wv[k * s.c + c]));
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j)
            want[static_cast<size_t>(((n * s.c + c) * s.h + i * s.stride) * s.w + j * s.stride)] +=
                dyv[static_cast<size_t>(((n * s.k + k) * oh + i) * ow + j)] * wkc;
      }

  Context ctx;
  const Tensor* xs[1] = {&x};
  Tensor* dxs[1] = {&dx};
  layer->forward(xs, y, ctx);
  std::fill_n(dx.data_as<uint16_t>(), numel(in.shape), uint16_t{0x7fc0});  // NaN: dx is overwritten
  layer->backward(xs, y, dy, dxs, ctx);
  std::vector<float> got(want.size());
  be.read_plain(dx, got.data());
  const double layer_err = relative_error(got.data(), want);
  EXPECT_LE(layer_err, 4e-3) << p.str() << " layer vs float64";
  int64_t skipped_not_zero = 0;
  for (size_t i = 0; i < want.size(); ++i) skipped_not_zero += want[i] == 0.0 && got[i] != 0.f;
  EXPECT_EQ(skipped_not_zero, 0) << p.str() << ": pixels the convolution skips must get a zero gradient";

  // oneDNN's own convolution backward data on the same bf16 memory.
  std::string impl;
  const std::vector<float> conv = conv_oracles::onednn_backward_data(be, p, in, src_md, dst_md, w, dy, impl);
  const std::vector<double> conv_d(conv.begin(), conv.end());
  const double conv_err = relative_error(got.data(), conv_d);
  EXPECT_LE(conv_err, 6e-3) << p.str() << " vs " << impl;
  std::printf("[%s on %s] input gradient relative error: layer %.1e vs float64; %.1e vs %s\n", p.str().c_str(),
              in.str().c_str(), layer_err, conv_err, impl.c_str());
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnConvDataGradient,
                         ::testing::Values(Shape4{3, 32, 24, 7, 5, 1, 1, 0},   // narrowing
                                           Shape4{2, 16, 64, 9, 7, 1, 1, 0},   // widening
                                           Shape4{1, 48, 48, 1, 1, 1, 1, 0},   // one pixel
                                           Shape4{2, 32, 64, 8, 6, 1, 2, 0},   // a downsample: stride 2
                                           Shape4{3, 16, 32, 7, 5, 1, 2, 0},   // odd maps: the last row read
                                           Shape4{1, 48, 16, 7, 8, 1, 3, 0}),  // stride 3
                         [](const auto& info) {
                           const Shape4& s = info.param;
                           char name[64];
                           std::snprintf(name, sizeof name, "s%ld_C%ldK%ld_%ldx%ld", long(s.stride), long(s.c),
                                         long(s.k), long(s.h), long(s.w));
                           return std::string(name);
                         });

}  // namespace
}  // namespace cxr
