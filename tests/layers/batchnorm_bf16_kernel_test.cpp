// The bf16 batch-norm training loops, nhwc and nChw16c, (plugins/onednn/batchnorm_bf16_kernel.h) against a
// double-precision definition of batch norm computed from the same bf16 inputs: the statistics,
// y with and without the absorbed residual add and ReLU, the recompute giving the forward's bits,
// dγ, dβ and dx with and without the fused ReLU (its mask taken from the forward's output), for
// row counts that split unevenly over threads and leave partial float runs, and for channel
// means far from zero (the shifted sums). The AVX512_BF16 loops and the portable loops give the
// same bits (skipped, and said, on a CPU without AVX512_BF16), and their float → bf16 rounding
// is vcvtneps2bf16's on ties, NaN, infinities and denormals.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "plugins/onednn/batchnorm_bf16_kernel.h"
#include "plugins/onednn/bf16_lanes.h"

namespace cxr::dnn {
namespace {

using bf16_portable::bf16_to_float;
using bf16_portable::float_to_bf16;

// Values per logical (row, channel), row = image·H·W + pixel, stored in nhwc or nChw16c.
struct Problem {
  static constexpr int64_t kSpatial = 7;  // H·W of the nChw16c problems (rows: a multiple of it)
  Bf16Dims d;
  std::vector<uint16_t> x, identity, dy;
  std::vector<float> gamma, beta;
  Problem(int64_t rows, int64_t channels, unsigned seed, bool blocked = false)
      : d{blocked ? rows / kSpatial : rows, channels, blocked ? kSpatial : 1, blocked} {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    const auto n = static_cast<size_t>(rows * channels);
    x.resize(n), identity.resize(n), dy.resize(n);
    std::vector<float> offset(static_cast<size_t>(channels)), spread(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      offset[c] = 40.f * uniform(rng);                  // means far from zero: the shifted sums matter
      spread[c] = std::exp2(3.f * uniform(rng));        // 1/8 .. 8
      gamma.push_back(1.f + 0.5f * uniform(rng));
      beta.push_back(0.5f * uniform(rng));
    }
    for (int64_t r = 0; r < d.rows(); ++r)
      for (int64_t c = 0; c < channels; ++c) {
        x[index(r, c)] = float_to_bf16(offset[c] + spread[c] * normal(rng));
        identity[index(r, c)] = float_to_bf16(normal(rng));
        dy[index(r, c)] = float_to_bf16(normal(rng));
      }
  }
  size_t index(int64_t r, int64_t c) const {
    if (!d.blocked) return static_cast<size_t>(r * d.channels + c);
    const int64_t image = r / d.spatial, pixel = r % d.spatial;
    return static_cast<size_t>(((image * (d.channels / 16) + c / 16) * d.spatial + pixel) * 16 + c % 16);
  }
  double at(const std::vector<uint16_t>& v, int64_t r, int64_t c) const { return bf16_to_float(v[index(r, c)]); }
};

struct Stats {
  std::vector<double> mean, var;
};

Stats reference_stats(const Problem& p) {
  Stats s{std::vector<double>(p.d.channels), std::vector<double>(p.d.channels)};
  for (int64_t c = 0; c < p.d.channels; ++c) {
    double m = 0, v = 0;
    for (int64_t r = 0; r < p.d.rows(); ++r) m += p.at(p.x, r, c);
    m /= static_cast<double>(p.d.rows());
    for (int64_t r = 0; r < p.d.rows(); ++r) v += (p.at(p.x, r, c) - m) * (p.at(p.x, r, c) - m);
    s.mean[c] = m, s.var[c] = v / static_cast<double>(p.d.rows());
  }
  return s;
}

constexpr double kEps = 1e-5;

// |got − want| within one bf16 rounding of want plus the float error of the terms it sums.
void expect_bf16_near(uint16_t got, double want, double terms, const std::string& where) {
  const double g = bf16_to_float(got);
  ASSERT_LE(std::abs(g - want), std::abs(want) * std::exp2(-8) + 1e-6 * terms + 1e-30) << where << " got " << g;
}

TEST(BatchNormBf16Kernel, ForwardMatchesDoublePrecisionBatchNorm) {
  for (bool blocked : {false, true})
    for (auto [rows, channels] : {std::pair<int64_t, int64_t>{7, 16}, {7, 64}, {35, 16}, {1001, 48}, {3136, 256}})
      for (int threads : {1, 2, 3})
        for (int variant = 0; variant < 3; ++variant) {  // plain, fused ReLU, absorbed add + ReLU
          const Problem p(rows, channels, static_cast<unsigned>(rows + channels), blocked);
          const bool relu = variant > 0, add = variant == 2;
          std::vector<uint16_t> y(p.x.size());
          std::vector<float> mean(channels), var(channels);
          batchnorm_bf16_forward(p.x.data(), add ? p.identity.data() : nullptr, y.data(), p.d, p.gamma.data(),
                                 p.beta.data(), kEps, relu, mean.data(), var.data(), threads);
          const Stats s = reference_stats(p);
          const std::string shape = std::to_string(rows) + "x" + std::to_string(channels) + " threads " +
                                    std::to_string(threads) + " variant " + std::to_string(variant) +
                                    (blocked ? " nChw16c" : " nhwc");
          for (int64_t c = 0; c < channels; ++c) {
            ASSERT_NEAR(mean[c], s.mean[c], 1e-6 * (std::abs(s.mean[c]) + std::sqrt(s.var[c]))) << shape << " c " << c;
            ASSERT_NEAR(var[c], s.var[c], 2e-6 * s.var[c] + 1e-12) << shape << " c " << c;
          }
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < channels; ++c) {
              const double scale = p.gamma[c] / std::sqrt(s.var[c] + kEps);
              double z = (p.at(p.x, r, c) - s.mean[c]) * scale + p.beta[c];
              if (add) z += p.at(p.identity, r, c);
              const double want = relu ? std::max(0.0, z) : z;
              expect_bf16_near(y[p.index(r, c)], want,
                               std::abs(p.at(p.x, r, c) * scale) + 1.0 + std::abs(z),
                               shape + " r " + std::to_string(r) + " c " + std::to_string(c));
            }
          if (add) continue;
          std::vector<uint16_t> again(p.x.size(), 0x7fc0);
          batchnorm_bf16_recompute(p.x.data(), again.data(), p.d, p.gamma.data(), p.beta.data(), mean.data(),
                                   var.data(), kEps, relu, threads);
          ASSERT_EQ(again, y) << shape << ": the recompute is not the forward's bits";
        }
}

TEST(BatchNormBf16Kernel, BackwardMatchesDoublePrecisionGradients) {
  for (bool blocked : {false, true})
    for (auto [rows, channels] : {std::pair<int64_t, int64_t>{7, 16}, {35, 64}, {2051, 32}})
      for (int threads : {1, 2})
        for (bool relu : {false, true}) {
          const Problem p(rows, channels, static_cast<unsigned>(3 * rows + channels), blocked);
          std::vector<uint16_t> y(p.x.size()), dx(p.x.size());
          std::vector<float> mean(channels), var(channels), dgamma(channels), dbeta(channels);
          batchnorm_bf16_forward(p.x.data(), nullptr, y.data(), p.d, p.gamma.data(), p.beta.data(), kEps, relu,
                                 mean.data(), var.data(), threads);
          batchnorm_bf16_backward(p.x.data(), p.dy.data(), dx.data(), p.d, p.gamma.data(), p.beta.data(), mean.data(),
                                  var.data(), kEps, relu, dgamma.data(), dbeta.data(), threads);
          const std::string shape = std::to_string(rows) + "x" + std::to_string(channels) + " threads " +
                                    std::to_string(threads) + (relu ? " relu" : "") + (blocked ? " nChw16c" : " nhwc");
          const auto n = static_cast<double>(rows);
          for (int64_t c = 0; c < channels; ++c) {
            // The definition, from the statistics the forward saved; g masked where its y is 0.
            const double m = mean[c], inv_std = 1.0 / std::sqrt(static_cast<double>(var[c]) + kEps);
            double sg = 0, sgx = 0, sabs = 0;
            std::vector<double> g(static_cast<size_t>(rows));
            for (int64_t r = 0; r < rows; ++r) {
              const bool pass = !relu || bf16_to_float(y[p.index(r, c)]) > 0.f;
              g[r] = pass ? p.at(p.dy, r, c) : 0.0;
              sg += g[r], sgx += g[r] * (p.at(p.x, r, c) - m) * inv_std, sabs += std::abs(g[r]);
            }
            ASSERT_NEAR(dbeta[c], sg, 1e-6 * sabs + 1e-6) << shape << " c " << c;
            ASSERT_NEAR(dgamma[c], sgx, 1e-5 * sabs + 1e-6) << shape << " c " << c;
            for (int64_t r = 0; r < rows; ++r) {
              const double xhat = (p.at(p.x, r, c) - m) * inv_std;
              const double want = p.gamma[c] * inv_std * (g[r] - sg / n - xhat * sgx / n);
              const double terms =
                  p.gamma[c] * inv_std * (std::abs(g[r]) + std::abs(sg / n) + std::abs(xhat * sgx / n));
              expect_bf16_near(dx[p.index(r, c)], want, terms,
                               shape + " r " + std::to_string(r) + " c " + std::to_string(c));
            }
          }
          // Without dx (no consumer): the same dγ and dβ, nothing written.
          std::vector<float> dgamma2(channels), dbeta2(channels);
          batchnorm_bf16_backward(p.x.data(), p.dy.data(), nullptr, p.d, p.gamma.data(), p.beta.data(), mean.data(),
                                  var.data(), kEps, relu, dgamma2.data(), dbeta2.data(), threads);
          EXPECT_EQ(dgamma2, dgamma) << shape;
          EXPECT_EQ(dbeta2, dbeta) << shape;
        }
}

TEST(BatchNormBf16Kernel, AVX512AndPortableLoopsGiveTheSameBits) {
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX512_BF16: only the portable loops run here";
  for (bool blocked : {false, true})
    for (auto [rows, channels] : {std::pair<int64_t, int64_t>{7, 16}, {35, 64}, {1505, 128}})
      for (bool relu : {false, true}) {
        const Problem p(rows, channels, 11, blocked);
        std::vector<uint16_t> y[2], dx[2];
        std::vector<float> mean[2], var[2], dg[2], db[2];
        for (int k = 0; k < 2; ++k) {
          const Bf16Isa isa = k == 0 ? Bf16Isa::best : Bf16Isa::portable;
          y[k].resize(p.x.size()), dx[k].resize(p.x.size());
          mean[k].resize(channels), var[k].resize(channels), dg[k].resize(channels), db[k].resize(channels);
          batchnorm_bf16_forward(p.x.data(), relu ? p.identity.data() : nullptr, y[k].data(), p.d, p.gamma.data(),
                                 p.beta.data(), kEps, relu, mean[k].data(), var[k].data(), 2, isa);
          batchnorm_bf16_backward(p.x.data(), p.dy.data(), dx[k].data(), p.d, p.gamma.data(), p.beta.data(),
                                  mean[k].data(), var[k].data(), kEps, relu, dg[k].data(), db[k].data(), 2, isa);
        }
        EXPECT_EQ(mean[0], mean[1]);
        EXPECT_EQ(var[0], var[1]);
        EXPECT_EQ(y[0], y[1]);
        EXPECT_EQ(dg[0], dg[1]);
        EXPECT_EQ(db[0], db[1]);
        EXPECT_EQ(dx[0], dx[1]);
      }
}

#if defined(CXR_HAVE_AVX512_BF16_PATH)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16")
std::vector<uint16_t> vector_rounding(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); i += 16)
    bf16_avx512::store_bf16(out.data() + i, bf16_avx512::load(v.data() + i), false);
  return out;
}
#pragma GCC pop_options
#endif

TEST(BatchNormBf16Kernel, RoundingIsVcvtneps2bf16s) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto bits = [](uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  };
  // Ties to even both ways, just above and below a tie, NaN, ±inf, the largest finite, denormals.
  std::vector<float> v = {1.f,          bits(0x3f808000), bits(0x3f818000), bits(0x3f808001), bits(0x3f807fff),
                          -1.5f,        nan,              inf,              -inf,             bits(0x7f7fffff),
                          bits(0x00000001), bits(0x807fffff), bits(0x00800000), 0.f,          -0.f,
                          bits(0x7f800001)};
  const std::vector<uint16_t> want = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x3f80, 0xbfc0, 0x7fc0, 0x7f80,
                                      0xff80, 0x7f80, 0x0000, 0x8000, 0x0080, 0x0000, 0x8000, 0x7fc0};
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(float_to_bf16(v[i]), want[i]) << "portable, value " << i;
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX512_BF16: vcvtneps2bf16 not compared";
#if defined(CXR_HAVE_AVX512_BF16_PATH)
  EXPECT_EQ(vector_rounding(v), want);
#endif
}

TEST(BatchNormBf16Kernel, RefusesChannelsThatAreNotAMultipleOf16) {
  std::vector<uint16_t> x(24), y(24);
  std::vector<float> g(24, 1.f), b(24, 0.f), m(24), v(24);
  EXPECT_FALSE(batchnorm_bf16_supports({1, 24, 1}));
  EXPECT_THROW(batchnorm_bf16_forward(x.data(), nullptr, y.data(), {1, 24, 1}, g.data(), b.data(), kEps, false,
                                      m.data(), v.data(), 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace cxr::dnn
