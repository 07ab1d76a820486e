// The max-pooling loops (plugins/onednn/maxpool_kernel.h) against PyTorch's definition written
// out here as plain loops over logical (n, c, h, w): a window's value is its first tap greater than
// every earlier one, or a NaN; its gradient goes to that tap, summed in float in ascending output
// order (PyTorch's scatter order). Data with many ties (small integers), −inf, NaN; nhwc (16-,
// 8- and 1-lane chunks), nChw16c and nChw8c; kernels 2, 3 and 5 with padding and strides that
// overlap, tile and skip; 1 and 3 threads; every instruction set this CPU has. f32 must be
// bit-identical (y, the taps, dx); bf16 y likewise and dx the bf16 rounding of that float sum.
// And the oneDNN backend's maxpool2d layer, which runs these loops on its own activation layout
// (nChw16c f32, nhwc or nChw16c bf16), against the reference backend's kernel, training and eval.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/maxpool2d.h"
#include "plugins/onednn/bf16_lanes.h"
#include "plugins/onednn/maxpool_kernel.h"
#include "plugins/onednn/onednn_backend.h"
#include "plugins/reference/kernels.h"
#include "tests/layers/test_registry.h"

namespace cxr::dnn {
namespace {

using bf16_portable::bf16_to_float;
using bf16_portable::float_to_bf16;

struct Case {
  int64_t n, c, h, w, kernel, stride, padding, block;  // block 0: nhwc
};

// Where logical (n, c, h, w) lives in the case's layout.
int64_t offset(const Case& k, int64_t n, int64_t c, int64_t h, int64_t w, int64_t hh, int64_t ww) {
  if (k.block == 0) return ((n * hh + h) * ww + w) * k.c + c;
  return (((n * (k.c / k.block) + c / k.block) * hh + h) * ww + w) * k.block + c % k.block;
}

MaxPoolGeometry geometry(const Case& k) {
  MaxPoolGeometry g;
  g.planes = k.block ? k.n * k.c / k.block : k.n;
  g.block = k.block ? k.block : k.c;
  g.h = k.h, g.w = k.w, g.kernel = k.kernel, g.stride = k.stride, g.padding = k.padding;
  g.oh = (k.h + 2 * k.padding - k.kernel) / k.stride + 1;
  g.ow = (k.w + 2 * k.padding - k.kernel) / k.stride + 1;
  return g;
}

// PyTorch's max_pool2d forward and backward on logical values, in float.
struct Expected {
  std::vector<float> y, dx;
  std::vector<uint8_t> tap;
};
Expected pytorch(const Case& k, const MaxPoolGeometry& g, const std::vector<float>& x, const std::vector<float>& dy) {
  Expected e;
  e.y.resize(dy.size()), e.tap.resize(dy.size()), e.dx.assign(x.size(), 0.f);
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t c = 0; c < k.c; ++c)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t where = -1, tap = 0;
          for (int64_t kh = 0; kh < k.kernel; ++kh)
            for (int64_t kw = 0; kw < k.kernel; ++kw) {
              const int64_t ih = oh * k.stride - k.padding + kh, iw = ow * k.stride - k.padding + kw;
              if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
              const int64_t i = offset(k, n, c, ih, iw, k.h, k.w);
              if (where < 0) where = i, tap = kh * k.kernel + kw;  // PyTorch starts at the first real tap
              if (x[i] > best || std::isnan(x[i])) best = x[i], where = i, tap = kh * k.kernel + kw;
            }
          const int64_t o = offset(k, n, c, oh, ow, g.oh, g.ow);
          e.y[o] = best, e.tap[o] = static_cast<uint8_t>(tap);
        }
  // The scatter, output by output in PyTorch's (n, c, oh, ow) order: per input the same order as (oh, ow).
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t c = 0; c < k.c; ++c)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          const int64_t o = offset(k, n, c, oh, ow, g.oh, g.ow);
          const int64_t kh = e.tap[o] / k.kernel, kw = e.tap[o] % k.kernel;
          e.dx[offset(k, n, c, oh * k.stride - k.padding + kh, ow * k.stride - k.padding + kw, k.h, k.w)] += dy[o];
        }
  return e;
}

// Small integers (ties everywhere), a few −inf and NaN when `specials`; gradients random.
std::vector<float> values(size_t count, unsigned seed, bool specials) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(-3, 3), pick(0, 40);
  std::vector<float> v(count);
  for (float& f : v) {
    f = static_cast<float>(level(rng)) * 0.5f;
    const int p = pick(rng);
    if (specials && p == 0) f = std::numeric_limits<float>::quiet_NaN();
    if (specials && p == 1) f = -std::numeric_limits<float>::infinity();
  }
  return v;
}
std::vector<float> gradients(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(count);
  for (float& f : v) f = bf16_to_float(float_to_bf16(normal(rng)));  // representable in bf16 too
  return v;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

class MaxPoolKernel : public ::testing::TestWithParam<Case> {};

TEST_P(MaxPoolKernel, MatchesPyTorchBitForBitOnEveryIsa) {
  const Case k = GetParam();
  const MaxPoolGeometry g = geometry(k);
  ASSERT_TRUE(maxpool_kernel_supports(g));
  const size_t in = static_cast<size_t>(k.n * k.c * k.h * k.w), out = static_cast<size_t>(k.n * k.c * g.oh * g.ow);
  const std::vector<float> x = values(in, 11, true), dy = gradients(out, 12);
  const Expected want = pytorch(k, g, x, dy);
  std::vector<uint16_t> xb(in), dyb(out);
  for (size_t i = 0; i < in; ++i) xb[i] = float_to_bf16(x[i]);  // the values are exact in bf16
  for (size_t i = 0; i < out; ++i) dyb[i] = float_to_bf16(dy[i]);
  for (MaxPoolIsa isa : {MaxPoolIsa::best, MaxPoolIsa::avx2, MaxPoolIsa::portable})
    for (int threads : {1, 3}) {
      SCOPED_TRACE("isa " + std::to_string(static_cast<int>(isa)) + " (best here: " + maxpool_kernel_isa() +
                   "), threads " + std::to_string(threads));
      std::vector<float> y(out, 7.f), dx(in, 7.f);
      std::vector<uint8_t> tap(out, 99), tap_b(out, 99);
      maxpool_forward(x.data(), y.data(), tap.data(), g, threads, isa);
      maxpool_backward(tap.data(), dy.data(), dx.data(), g, threads, isa);
      std::vector<uint16_t> yb(out, 1), dxb(in, 1);
      maxpool_forward(xb.data(), yb.data(), tap_b.data(), g, threads, isa);
      maxpool_backward(tap_b.data(), dyb.data(), dxb.data(), g, threads, isa);
      size_t bad = 0;
      for (size_t o = 0; o < out; ++o) {
        const bool ok = bits(y[o]) == bits(want.y[o]) && tap[o] == want.tap[o] && tap_b[o] == want.tap[o] &&
                        yb[o] == float_to_bf16(want.y[o]);
        if (!ok && bad++ < 3)
          ADD_FAILURE() << "output " << o << ": y " << y[o] << " tap " << int(tap[o]) << " (bf16 " << int(tap_b[o])
                        << "), want " << want.y[o] << " tap " << int(want.tap[o]);
      }
      for (size_t i = 0; i < in; ++i) {
        const bool ok = bits(dx[i]) == bits(want.dx[i]) && dxb[i] == float_to_bf16(want.dx[i]);
        if (!ok && bad++ < 6)
          ADD_FAILURE() << "input " << i << ": dx " << dx[i] << " (bf16 " << bf16_to_float(dxb[i]) << "), want "
                        << want.dx[i];
      }
      EXPECT_EQ(bad, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, MaxPoolKernel,
                         ::testing::Values(Case{2, 64, 9, 7, 3, 2, 1, 0},    // ResNet's stem pool, odd map, nhwc
                                           Case{3, 24, 8, 8, 3, 2, 1, 0},    // 8-lane chunks
                                           Case{2, 5, 6, 9, 2, 2, 0, 0},     // one lane, tiling windows
                                           Case{2, 32, 11, 10, 5, 3, 2, 16}, // nChw16c, wide kernel
                                           Case{2, 16, 7, 7, 3, 1, 1, 8},    // nChw8c, stride 1
                                           Case{1, 16, 9, 9, 2, 3, 0, 16}),  // stride > kernel: skipped pixels
                         [](const auto& info) {
                           const Case& c = info.param;
                           return (c.block ? "nChw" + std::to_string(c.block) + "c" : std::string("nhwc")) + "_C" +
                                  std::to_string(c.c) + "_k" + std::to_string(c.kernel) + "s" +
                                  std::to_string(c.stride) + "p" + std::to_string(c.padding);
                         });

TEST(MaxPoolKernelGeometry, RefusesWhatItCannotRun) {
  MaxPoolGeometry g{2, 16, 8, 8, 4, 4, 3, 2, 1};
  EXPECT_TRUE(maxpool_kernel_supports(g));
  MaxPoolGeometry wrong_out = g;
  wrong_out.oh = 5;
  EXPECT_FALSE(maxpool_kernel_supports(wrong_out));
  MaxPoolGeometry padding_too_wide = g;
  padding_too_wide.padding = 3, padding_too_wide.oh = padding_too_wide.ow = 6;
  EXPECT_FALSE(maxpool_kernel_supports(padding_too_wide));  // a window of padding only
  MaxPoolGeometry too_many_taps = g;
  too_many_taps.kernel = 16, too_many_taps.padding = 0, too_many_taps.h = too_many_taps.w = 16;
  too_many_taps.oh = too_many_taps.ow = 1;
  EXPECT_FALSE(maxpool_kernel_supports(too_many_taps));  // 256 taps do not fit a byte
}

// The layer on the backend's own activation layout, where the loops run, against the reference
// kernel (first maximum wins; finite data with ties, so its rule and PyTorch's agree).
TEST(MaxPoolLayer, OnednnLayerOnItsActivationLayoutMatchesTheReference) {
  for (DType type : {DType::F32, DType::BF16}) {
    if (type == DType::BF16 && !OnednnBackend::has_native_bf16()) {
      std::printf("bf16 not run: %s computes no bf16 natively, so the backend refuses it\n",
                  OnednnBackend::isa_name().c_str());
      continue;
    }
    SCOPED_TRACE(type == DType::BF16 ? "bf16" : "f32");
    OnednnBackend be(2, type);
    ops::MaxPool2dParams p;
    p.kernel = 3, p.stride = 2, p.padding = 1;
    const Shape shape{2, 32, 9, 7};
    const TensorDesc in = be.activation_desc(shape);
    const std::vector<float> x = values(static_cast<size_t>(numel(shape)), 21, false);
    const Shape out_shape = p.output_shape(std::vector<Shape>{shape});
    const std::vector<float> dy = gradients(static_cast<size_t>(numel(out_shape)), 22);
    // The reference on plain nchw.
    std::vector<float> want_y(dy.size()), want_dx(x.size());
    std::vector<int64_t> arg(dy.size());
    const ref::Dims4 d{shape[0], shape[1], shape[2], shape[3]};
    ref::maxpool_forward(x.data(), d, p.kernel, p.stride, p.padding, want_y.data(), out_shape[2], out_shape[3],
                         arg.data());
    ref::maxpool_backward(d, dy.data(), static_cast<int64_t>(dy.size()), arg.data(), want_dx.data());
    for (bool training : {true, false}) {
      auto layer = swept_registry().create(p, be);
      const TensorDesc in_descs[1] = {in};
      PrepareInfo info;
      info.training = training;
      const TensorDesc out = layer->prepare(in_descs, info);
      Tensor tx = be.allocate(in), ty = be.allocate(out), tdy = be.allocate(out), tdx = be.allocate(in);
      be.write_plain(tx, x.data());
      be.write_plain(tdy, dy.data());
      Context ctx;
      ctx.training = training;
      const Tensor* xs[1] = {&tx};
      Tensor* dxs[1] = {&tdx};
      layer->forward(xs, ty, ctx);
      std::vector<float> got_y(dy.size());
      be.read_plain(ty, got_y.data());
      EXPECT_EQ(got_y, want_y) << (training ? "training" : "eval") << " forward on " << in.str();
      if (!training) continue;
      layer->backward(xs, ty, tdy, dxs, ctx);
      std::vector<float> got_dx(x.size());
      be.read_plain(tdx, got_dx.data());
      for (float& v : want_dx) v = type == DType::BF16 ? bf16_to_float(float_to_bf16(v)) : v;
      EXPECT_EQ(got_dx, want_dx) << "backward on " << in.str();
    }
  }
}

}  // namespace
}  // namespace cxr::dnn
