// The cuDNN backend's kernel arithmetic (plugins/cudnn/kernel_math.h), run on the CPU: the same
// __host__ __device__ functions the .cu kernels call, checked against the reference backend's
// kernels, HostBackend's optimizer loops and plain C++. Needs no GPU; compiled with
// -ffp-contract=off, as the optimizer kernels are compiled with --fmad=false.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "plugins/backends.h"
#include "plugins/cudnn/kernel_math.h"
#include "plugins/cudnn/optim_constants.h"
#include "plugins/reference/kernels.h"

namespace cxr::gpu {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Round-to-nearest-even to bf16 on the bit pattern (the textbook form, independent of CUDA's).
uint16_t bf16_rne(float f) {
  const uint32_t u = bits(f);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
template <class T>
uint16_t bits16(T v) {
  uint16_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

std::vector<float> conversion_inputs() {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 1.00390625f, 1.01171875f, 65504.0f, 65520.0f,
                          1e-8f, 6e-8f, 3e-8f, 1e-30f, 3.4e38f, INFINITY, -INFINITY,
                          from_bits(0x3f808000u), from_bits(0x3f818000u), from_bits(0x00000001u),
                          from_bits(0x7f7fffffu), from_bits(0x33000000u)};
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const float f = from_bits(static_cast<uint32_t>(rng()));
    if (!std::isnan(f)) v.push_back(f);
  }
  return v;
}

TEST(CudnnKernelMath, Bf16StoresRoundToNearestEven) {
  for (float f : conversion_inputs())
    ASSERT_EQ(bits16(from_float<__nv_bfloat16>(f)), bf16_rne(f)) << f << " bits " << std::hex << bits(f);
  EXPECT_TRUE(std::isnan(rounded<__nv_bfloat16>(NAN)));
  EXPECT_EQ(rounded<__nv_bfloat16>(1.00390625f), 1.0f);       // tie to even (down)
  EXPECT_EQ(rounded<__nv_bfloat16>(1.01171875f), 1.015625f);  // tie to even (up)
}

TEST(CudnnKernelMath, F16StoresRoundToNearestEven) {
  for (float f : conversion_inputs())
    ASSERT_EQ(bits16(from_float<__half>(f)), bits16(static_cast<_Float16>(f))) << f;
  EXPECT_TRUE(std::isnan(rounded<__half>(NAN)));
  EXPECT_EQ(rounded<__half>(65520.0f), INFINITY);  // past the largest f16, to even: overflow
  EXPECT_EQ(rounded<__half>(1e-8f), 0.0f);         // under half the smallest subnormal
  for (float f : conversion_inputs())  // every f16 and bf16 value converts back exactly
    if (std::isfinite(rounded<__half>(f))) ASSERT_EQ(to_float(from_float<__half>(rounded<__half>(f))), rounded<__half>(f));
}

TEST(CudnnKernelMath, ReluKeepsNanAndSignedZeroAsTheReference) {
  EXPECT_TRUE(std::isnan(relu(NAN)));
  EXPECT_TRUE(std::isnan(add(NAN, 1.0f, true)));
  EXPECT_TRUE(std::isnan(batchnorm(NAN, 0.0f, 1.0f, 1.0f, 0.0f, true)));
  EXPECT_TRUE(std::signbit(relu(-0.0f)));
  EXPECT_EQ(relu(-2.5f), 0.0f);
  EXPECT_EQ(relu(2.5f), 2.5f);
  EXPECT_EQ(add(-1.0f, 0.25f, true), 0.0f);
  EXPECT_EQ(add(-1.0f, 0.25f, false), -0.75f);
  for (float v : {-3.0f, -0.0f, 0.0f, 1.5f}) {  // the reference's fused form: s < 0 ? 0 : s
    double y = 0;
    const double a = v, b = 0;
    ref::add_forward(&a, &b, 1, true, &y);
    EXPECT_EQ(relu(v), static_cast<float>(y)) << v;
  }
  EXPECT_EQ(relu_grad(NAN, 4.0f), 0.0f);  // !(y > 0) → 0, as the reference's masks
  EXPECT_EQ(relu_grad(0.0f, 4.0f), 0.0f);
  EXPECT_EQ(relu_grad(1e-30f, 4.0f), 4.0f);
}

// NCHW ↔ NHWC (and dtype) conversion against the four nested loops it stands for.
TEST(CudnnKernelMath, LayoutConversionIsTheTransposeAndRoundTrips) {
  for (const Dims d : {Dims{2, 3, 4, 5}, Dims{1, 64, 7, 7}, Dims{3, 1, 1, 9}, Dims{4, 5, 1, 1}}) {
    std::vector<float> nchw(static_cast<size_t>(d.count()));
    for (size_t i = 0; i < nchw.size(); ++i) nchw[i] = static_cast<float>(i) * 0.37f - 3.0f;
    std::vector<float> expect(nchw.size()), nhwc(nchw.size()), back(nchw.size());
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t c = 0; c < d.c; ++c)
        for (int64_t h = 0; h < d.h; ++h)
          for (int64_t w = 0; w < d.w; ++w)
            expect[static_cast<size_t>(((n * d.h + h) * d.w + w) * d.c + c)] =
                nchw[static_cast<size_t>(((n * d.c + c) * d.h + h) * d.w + w)];
    for (int64_t i = 0; i < d.count(); ++i) {
      nhwc[i] = load(nchw.data(), convert_source(Fmt::Nchw, Fmt::Nhwc, d, i));
      int64_t n, c, h, w;
      decode(Fmt::Nhwc, d, i, n, c, h, w);
      ASSERT_EQ(offset(Fmt::Nhwc, d, n, c, h, w), i);
      ASSERT_EQ(channel_of(Fmt::Nhwc, d, i), c);
      ASSERT_EQ(channel_of(Fmt::Nchw, d, offset(Fmt::Nchw, d, n, c, h, w)), c);
    }
    EXPECT_EQ(nhwc, expect);
    for (int64_t i = 0; i < d.count(); ++i) back[i] = load(nhwc.data(), convert_source(Fmt::Nhwc, Fmt::Nchw, d, i));
    EXPECT_EQ(back, nchw);
    std::vector<__nv_bfloat16> low(nchw.size());  // f32 NCHW → bf16 NHWC, as convert_kernel<S, D>
    for (int64_t i = 0; i < d.count(); ++i) store(low.data(), i, load(nchw.data(), convert_source(Fmt::Nchw, Fmt::Nhwc, d, i)));
    for (int64_t i = 0; i < d.count(); ++i) ASSERT_EQ(to_float(low[i]), rounded<__nv_bfloat16>(expect[i]));
  }
}

// NHWC storage of an NCHW tensor.
std::vector<double> to_nhwc(const std::vector<double>& x, const Dims& d) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < d.count(); ++i) y[i] = x[convert_source(Fmt::Nchw, Fmt::Nhwc, d, i)];
  return y;
}

TEST(CudnnKernelMath, PoolingMatchesTheReferenceInBothLayouts) {
  const Dims in{2, 3, 9, 8};
  const PoolGeometry g{3, 2, 1, (9 + 2 - 3) / 2 + 1, (8 + 2 - 3) / 2 + 1};
  const Dims out{in.n, in.c, g.oh, g.ow};
  std::mt19937 rng(3);
  std::vector<double> x(static_cast<size_t>(in.count())), dy(static_cast<size_t>(out.count()));
  for (auto& v : x) v = static_cast<double>(rng() % 5);  // many ties: the first maximum must win
  for (auto& v : dy) v = static_cast<double>(rng() % 7) - 3.0;
  const ref::Dims4 rd{in.n, in.c, in.h, in.w};
  std::vector<double> ry(dy.size()), rdx(x.size()), rmean(static_cast<size_t>(in.n * in.c));
  std::vector<int64_t> arg(dy.size());
  ref::maxpool_forward(x.data(), rd, g.kernel, g.stride, g.padding, ry.data(), g.oh, g.ow, arg.data());
  ref::maxpool_backward(rd, dy.data(), out.count(), arg.data(), rdx.data());
  ref::avgpool_forward(x.data(), rd, rmean.data());
  for (const Fmt f : {Fmt::Nchw, Fmt::Nhwc}) {
    const auto xs = f == Fmt::Nchw ? x : to_nhwc(x, in);
    const auto dys = f == Fmt::Nchw ? dy : to_nhwc(dy, out);
    std::vector<float> xf(xs.begin(), xs.end()), dyf(dys.begin(), dys.end());
    std::vector<int32_t> argmax(dy.size());
    for (int64_t o = 0; o < out.count(); ++o) {
      int64_t n, c, oh, ow;
      decode(f, out, o, n, c, oh, ow);
      const float y = maxpool_window(xf.data(), f, in, g, n, c, oh, ow, argmax[o]);
      const int64_t plain = offset(Fmt::Nchw, out, n, c, oh, ow);
      ASSERT_EQ(y, ry[plain]);
      ASSERT_EQ(argmax[o], arg[plain] % (in.h * in.w)) << "tie rule";
    }
    for (int64_t i = 0; i < in.count(); ++i) {
      int64_t n, c, h, w;
      decode(f, in, i, n, c, h, w);
      ASSERT_EQ(maxpool_input_grad(dyf.data(), argmax.data(), f, in, g, n, c, h, w),
                rdx[offset(Fmt::Nchw, in, n, c, h, w)]);
    }
    for (int64_t n = 0; n < in.n; ++n)
      for (int64_t c = 0; c < in.c; ++c)
        EXPECT_FLOAT_EQ(avgpool_mean(xf.data(), f, in, n, c), rmean[n * in.c + c]);
  }
  std::vector<float> nan_window(static_cast<size_t>(in.count()), 1.0f);
  nan_window[offset(Fmt::Nchw, in, 0, 0, 1, 1)] = NAN;
  int32_t where = 0;
  EXPECT_TRUE(std::isnan(maxpool_window(nan_window.data(), Fmt::Nchw, in, g, 0, 0, 0, 0, where)));
  EXPECT_EQ(where, 1 * in.w + 1);
}

// The BN output from saved statistics (forward and recompute) against the reference's training
// forward; the fused ReLU's mask from x̂ equals the mask a read of the stored output gives.
TEST(CudnnKernelMath, BatchNormFromSavedStatisticsMatchesTheReference) {
  const ref::Dims4 d{4, 3, 5, 6};
  std::mt19937 rng(11);
  std::normal_distribution<double> normal(0.5, 2.0);
  std::vector<double> x(static_cast<size_t>(d.n * d.c * d.h * d.w)), y(x.size());
  for (auto& v : x) v = static_cast<float>(normal(rng));
  const std::vector<double> gamma = {1.5, -0.75, 0.25}, beta = {0.1, 0.0, -0.3};
  std::vector<double> mean(3), var(3);
  const double eps = 1e-5;
  ref::batchnorm_forward_train(x.data(), d, gamma.data(), beta.data(), eps, true, y.data(), mean.data(), var.data());
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    const int64_t c = channel_of(Fmt::Nchw, Dims{d.n, d.c, d.h, d.w}, i);
    const auto inv = static_cast<float>(1.0 / std::sqrt(var[c] + eps));
    const float got = batchnorm(static_cast<float>(x[i]), static_cast<float>(mean[c]), inv,
                                static_cast<float>(gamma[c]), static_cast<float>(beta[c]), true);
    ASSERT_NEAR(got, y[i], 1e-5 * (1 + std::abs(y[i])));
  }
  // A tiny positive output is 0 once stored as f16 (not as bf16): the mask must follow storage.
  const float tiny_beta = 1e-9f;
  EXPECT_EQ(batchnorm_relu_grad<__half>(3.0f, 2.0f, 0.0f, 1.0f, 0.0f, tiny_beta), 0.0f);
  EXPECT_EQ(batchnorm_relu_grad<__nv_bfloat16>(3.0f, 2.0f, 0.0f, 1.0f, 0.0f, tiny_beta), 2.0f);
  EXPECT_EQ(batchnorm_relu_grad<float>(3.0f, 2.0f, 0.0f, 1.0f, 0.0f, tiny_beta), 2.0f);
  for (double v : x) {
    const float xv = static_cast<float>(v);
    const float stored = rounded<__half>(batchnorm(xv, 0.5f, 0.7f, -1.25f, 0.2f, true));
    ASSERT_EQ(batchnorm_relu_grad<__half>(xv, 3.0f, 0.5f, 0.7f, -1.25f, 0.2f), relu_grad(stored, 3.0f));
  }
}

TEST(CudnnKernelMath, LossesMatchTheReference) {
  const int64_t n = 7, k = 4;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> z(static_cast<size_t>(n * k)), target(static_cast<size_t>(n)), multi(z.size());
  for (auto& v : z) v = normal(rng);
  for (int64_t i = 0; i < n; ++i) target[i] = static_cast<float>(i % k);
  for (auto& v : multi) v = static_cast<float>(rng() % 2);
  const std::vector<float> weight = {0.5f, 2.0f, 1.0f, 1.5f}, pos_weight = {1.0f, 3.0f, 0.5f, 2.0f};
  const std::vector<double> zd(z.begin(), z.end()), wd(weight.begin(), weight.end()), md(multi.begin(), multi.end()),
      pwd(pos_weight.begin(), pos_weight.end());
  std::vector<int64_t> labels(target.begin(), target.end());
  for (const double eps : {0.0, 0.1})
    for (const bool weighted : {false, true}) {
      const float* w = weighted ? weight.data() : nullptr;
      std::vector<double> rdz(z.size());
      const double expect = ref::softmax_cross_entropy(zd.data(), labels.data(), weighted ? wd.data() : nullptr,
                                                       eps, n, k, rdz.data());
      double total = 0, wsum = 0, wall = 0;
      for (int64_t c = 0; c < k; ++c) wall += class_weight_of(w, c);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t y = label_of(target.data(), i, k);
        ASSERT_EQ(y, labels[i]);
        wsum += class_weight_of(w, y);
        total += cross_entropy_row(z.data() + i * k, y, w, eps, k);
      }
      EXPECT_NEAR(total / wsum, expect, 1e-12 * std::abs(expect));
      for (int64_t i = 0; i < n; ++i) {
        const double lse = log_sum_exp(z.data() + i * k, k);
        for (int64_t c = 0; c < k; ++c)
          EXPECT_NEAR(cross_entropy_grad(z.data() + i * k, lse, labels[i], c, w, wall, eps, k) / wsum,
                      rdz[i * k + c], 1e-14);
      }
    }
  for (float bad : {-1.0f, 4.0f, 1.5f, NAN}) {
    const float t[1] = {bad};
    EXPECT_EQ(label_of(t, 0, k), -1) << bad;
  }
  std::vector<double> rdz(z.size());
  const double expect = ref::bce_with_logits(zd.data(), md.data(), pwd.data(), n, k, rdz.data());
  double total = 0;
  for (int64_t i = 0; i < n * k; ++i) {
    total += bce_term(z[i], multi[i], pos_weight[i % k]);
    EXPECT_NEAR(bce_grad(z[i], multi[i], pos_weight[i % k]) / static_cast<double>(n * k), rdz[i], 1e-15);
  }
  EXPECT_NEAR(total / static_cast<double>(n * k), expect, 1e-12 * expect);
  EXPECT_TRUE(std::isfinite(bce_term(-1000.0, 1.0, 1.0)));  // the overflow-safe softplus
}

// The device optimizer's element updates, constants included, give HostBackend's bits.
TEST(CudnnKernelMath, OptimizerUpdatesRoundExactlyAsTheHostBackend) {
  auto host = make_backend("reference", 1);
  const int64_t n = 4099;
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> p0(n), g(n), m0(n), v0(n);
  for (int64_t i = 0; i < n; ++i) {
    p0[i] = normal(rng);
    g[i] = normal(rng) * 1e-2f;
    m0[i] = normal(rng) * 1e-3f;
    v0[i] = std::abs(normal(rng)) * 1e-5f;
  }
  auto tensor = [&](const std::vector<float>& v) {
    Tensor t = host->allocate(plain_desc({n}));
    host->write_plain(t, v.data());
    return t;
  };
  auto read = [&](const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(n));
    host->read_plain(t, v.data());
    return v;
  };
  for (const bool decoupled : {false, true})
    for (const double wd : {0.0, 0.05})
      for (const int64_t step : {1, 2, 1000}) {
        AdamStep s;
        s.lr = 3e-4, s.weight_decay = wd, s.decoupled = decoupled, s.step = step;
        Tensor tp = tensor(p0), tg = tensor(g), tm = tensor(m0), tv = tensor(v0);
        host->adam_update(s, tp, tg, tm, tv);
        std::vector<float> p = p0, m = m0, v = v0;
        const AdamConstants c = adam_constants(s);
        for (int64_t i = 0; i < n; ++i) adam_element(p[i], g[i], m[i], v[i], c);
        EXPECT_EQ(p, read(tp)) << "decoupled " << decoupled << " wd " << wd << " step " << step;
        EXPECT_EQ(m, read(tm));
        EXPECT_EQ(v, read(tv));
      }
  for (const double momentum : {0.0, 0.9})
    for (const bool nesterov : {false, true})
      for (const bool first : {true, false}) {
        SgdStep s;
        s.lr = 0.1, s.momentum = momentum, s.dampening = nesterov ? 0.0 : 0.1, s.weight_decay = 1e-4;
        s.nesterov = nesterov, s.first_step = first;
        Tensor tp = tensor(p0), tg = tensor(g), tb = tensor(m0);
        Tensor none;
        host->sgd_update(s, tp, tg, momentum != 0.0 ? tb : none);
        std::vector<float> p = p0, b = m0;
        const SgdConstants c = sgd_constants(s);
        for (int64_t i = 0; i < n; ++i) sgd_element(p[i], g[i], momentum != 0.0 ? &b[i] : nullptr, c);
        EXPECT_EQ(p, read(tp)) << "momentum " << momentum << " nesterov " << nesterov;
        if (momentum != 0.0) EXPECT_EQ(b, read(tb));
      }
}

// The fixed-order two-pass sum of squares (the per-stage gradient norms): close to the exact sum,
// and the lanes cover every element exactly once.
TEST(CudnnKernelMath, FixedOrderSumOfSquaresCoversEveryElementOnce) {
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257},
                          int64_t{kSumBlocks} * kSumThreads + 5, int64_t{1000003}}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = normal(rng);
    long double exact = 0;
    for (float v : x) exact += static_cast<long double>(v) * v;
    const double got = sum_squares_fixed_order(x.data(), n);
    EXPECT_NEAR(got, static_cast<double>(exact), 1e-13 * static_cast<double>(exact) + 1e-300) << n;
    std::vector<float> ones(static_cast<size_t>(n), 1.0f);  // each element counted once
    EXPECT_EQ(sum_squares_fixed_order(ones.data(), n), static_cast<double>(n)) << n;
  }
  double lanes[kSumThreads];
  for (int t = 0; t < kSumThreads; ++t) lanes[t] = t;
  EXPECT_EQ(tree_sum(lanes), kSumThreads * (kSumThreads - 1) / 2.0);
}

}  // namespace
}  // namespace cxr::gpu
