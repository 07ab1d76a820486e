// The input gradient of a bf16 nhwc 3×3 stride-2 padding-1 convolution as four stride-1
// convolutions, one per pixel parity (plugins/onednn/conv_polyphase_data_gradient.h), on an AMX
// CPU. The conv2d layer's backward writes dx over a NaN-filled buffer; it is checked against
// - a float64 sum of the same bf16 dy and bf16-rounded weights, straight from the definition
//   dx[n][c][ih][iw] = Σ dy[n][k][oh][ow] · W[k][c][ih − 2·oh + 1][iw − 2·ow + 1]: only the f32
//   summation order and the one rounding to bf16 differ (‖dx − ref‖ ≤ 4e-3 ‖ref‖; a tap of the
//   wrong parity, a flipped sub-kernel or a pixel interleaved one place off is off by O(‖ref‖));
// - oneDNN's own convolution backward data on the same memory.
// Even and odd maps (the zero padding after the end differs), a map one pixel high (no odd rows),
// channels that are not a multiple of 16. Without AMX the path is never taken: a visible skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "plugins/onednn/bf16_lanes.h"
#include "plugins/onednn/conv_polyphase_data_gradient.h"
#include "tests/layers/onednn_conv_oracles.h"
#include "tests/layers/test_registry.h"

namespace cxr {
namespace {

using dnnl::memory;

struct Case {
  int64_t n, c, k, h, w;
};

using conv_oracles::normal_values;
using conv_oracles::relative_error;

class OnednnConvPolyphase : public ::testing::TestWithParam<Case> {};

TEST_P(OnednnConvPolyphase, Bf16InputGradientEqualsFloat64AndOnednnConvolution) {
  if (!OnednnBackend::has_amx())
    GTEST_SKIP() << "no AMX on this CPU (" << OnednnBackend::isa_name()
                 << "): bf16 runs channel-blocked and its input gradient is oneDNN's convolution";
  const Case s = GetParam();
  OnednnBackend be{2, DType::BF16};
  ops::Conv2dParams p;
  p.in_channels = s.c, p.out_channels = s.k, p.kernel = 3, p.stride = 2, p.padding = 1;
  const TensorDesc in = be.activation_desc({s.n, s.c, s.h, s.w});
  auto layer = swept_registry().create(p, be);
  const TensorDesc in_descs[1] = {in};
  const TensorDesc out = layer->prepare(in_descs, PrepareInfo{});
  const memory::desc src_md = dnn::md_of(in), dst_md = dnn::md_of(out);
  ASSERT_TRUE(dnn::PolyphaseDataGradient::wanted(p, src_md, src_md, dst_md, be)) << p.str() << " takes the other path";
  const int64_t oh = out.shape[2], ow = out.shape[3];

  Tensor x = be.allocate(in), y = be.allocate(out), dy = be.allocate(out), dx = be.allocate(in);
  std::vector<float> xv = normal_values(numel(in.shape), 7), dyv = normal_values(numel(out.shape), 8);
  be.write_plain(x, xv.data());
  be.write_plain(dy, dyv.data());
  be.read_plain(dy, dyv.data());  // the bf16 values the layer reads
  Tensor& w = layer->parameters()[0].value;
  const std::vector<float> wv = normal_values(w.numel(), 9);
  std::copy(wv.begin(), wv.end(), w.data_as<float>());

  std::vector<double> want(static_cast<size_t>(s.n * s.c * s.h * s.w), 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t c = 0; c < s.c; ++c)
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 3; ++j) {
            const double wkc = dnn::bf16_portable::bf16_to_float(
                dnn::bf16_portable::float_to_bf16(wv[static_cast<size_t>(((k * s.c + c) * 3 + i) * 3 + j)]));
            for (int64_t r = 0; r < oh; ++r)
              for (int64_t q = 0; q < ow; ++q) {
                const int64_t ih = 2 * r - 1 + i, iw = 2 * q - 1 + j;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                want[static_cast<size_t>(((n * s.c + c) * s.h + ih) * s.w + iw)] +=
                    dyv[static_cast<size_t>(((n * s.k + k) * oh + r) * ow + q)] * wkc;
              }
          }

  Context ctx;
  const Tensor* xs[1] = {&x};
  Tensor* dxs[1] = {&dx};
  layer->forward(xs, y, ctx);
  std::fill_n(dx.data_as<uint16_t>(), numel(in.shape), uint16_t{0x7fc0});  // NaN: every pixel is written
  layer->backward(xs, y, dy, dxs, ctx);
  std::vector<float> got(want.size());
  be.read_plain(dx, got.data());
  const double layer_err = relative_error(got.data(), want);
  EXPECT_LE(layer_err, 4e-3) << p.str() << " layer vs float64";

  // oneDNN's own convolution backward data on the same bf16 memory.
  std::string impl;
  const std::vector<float> conv = conv_oracles::onednn_backward_data(be, p, in, src_md, dst_md, w, dy, impl);
  const double conv_err = relative_error(got.data(), std::vector<double>(conv.begin(), conv.end()));
  EXPECT_LE(conv_err, 6e-3) << p.str() << " vs " << impl;
  std::printf("[%s on %s] input gradient relative error: layer %.1e vs float64; %.1e vs %s\n", p.str().c_str(),
              in.str().c_str(), layer_err, conv_err, impl.c_str());
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnConvPolyphase,
                         ::testing::Values(Case{2, 16, 32, 8, 6},    // even map: one zero row and column padded
                                           Case{3, 32, 16, 7, 5},    // odd map: no padding after the end
                                           Case{2, 48, 32, 5, 8},    // odd rows, even columns
                                           Case{1, 16, 16, 1, 3},    // one pixel high: no odd rows
                                           Case{1, 24, 40, 6, 7}),   // channels not a multiple of 16
                         [](const auto& info) {
                           const Case& s = info.param;
                           char name[64];
                           std::snprintf(name, sizeof name, "C%ldK%ld_%ldx%ld", long(s.c), long(s.k), long(s.h),
                                         long(s.w));
                           return std::string(name);
                         });

}  // namespace
}  // namespace cxr
