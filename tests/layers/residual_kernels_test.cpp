// The oneDNN backend's streamed residual-add loops against their scalar definition: every
// element of aligned buffers, unaligned views and odd lengths (the scalar tails), the ReLU mask
// of the backward, and NaN and infinity passing through the forward ReLU as they do in oneDNN's
// (a NaN loss must stay visible to the trainer, which stops on it). The BN+add training kernel
// against a double-precision definition of batch norm, in both block widths (nChw16c for AVX-512,
// nChw8c below it), with padding channels, aligned and unaligned buffers, and its AVX2 and SSE2
// paths giving the same bits. The bf16 residual loops against their definition.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "plugins/onednn/batchnorm_add_kernel.h"
#include "plugins/onednn/bf16_lanes.h"
#include "plugins/onednn/residual_kernels.h"

namespace cxr::dnn {
namespace {

struct Buffers {
  std::vector<float> a, b, y, out;
  explicit Buffers(size_t n) : a(n + 8), b(n + 8), y(n + 8), out(n + 8, -7.f) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = normal(rng), b[i] = normal(rng);
      y[i] = std::max(0.f, normal(rng));  // a ReLU output: zero about half the time
    }
  }
};

TEST(ResidualKernels, MatchTheirDefinitionAtEveryAlignmentAndLength) {
  for (size_t n : {1u, 3u, 4u, 37u, 4096u, 100003u})
    for (size_t offset : {0u, 1u, 4u})
      for (bool relu : {false, true}) {
        Buffers f(n);
        const float *a = f.a.data() + offset, *b = f.b.data() + offset, *y = f.y.data() + offset;
        residual_add(a, b, f.out.data() + offset, static_cast<int64_t>(n), relu, 2);
        for (size_t i = 0; i < n; ++i) {
          const float s = a[i] + b[i];
          ASSERT_EQ(f.out[offset + i], relu ? std::max(0.f, s) : s) << n << " " << offset << " " << i;
        }
        EXPECT_EQ(f.out[offset + n], -7.f) << "wrote past the end";
        residual_add_backward(a, b, y, f.out.data() + offset, static_cast<int64_t>(n), relu, 2);
        for (size_t i = 0; i < n; ++i) {
          const float s = a[i] + b[i];
          ASSERT_EQ(f.out[offset + i], !relu || y[i] > 0.f ? s : 0.f) << n << " " << offset << " " << i;
        }
      }
}

TEST(ResidualKernels, NonFiniteValuesPassThroughTheReluLikeOneDnns) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (size_t n : {8u, 9u}) {  // vector path, then the scalar tail too
    std::vector<float> a(n, 1.f), b(n, 0.f), out(n);
    a[1] = nan, a[2] = inf, a[3] = -inf, a[n - 1] = nan;
    residual_add(a.data(), b.data(), out.data(), static_cast<int64_t>(n), true, 1);
    EXPECT_TRUE(std::isnan(out[1]));
    EXPECT_EQ(out[2], inf);
    EXPECT_EQ(out[3], 0.f);
    EXPECT_TRUE(std::isnan(out[n - 1])) << n;
  }
}

// The bf16 versions against their definition: float sum of the two bf16 values, ReLU (NaN kept)
// or the y > 0 mask, one round to nearest even; lengths with scalar tails, views off the 32-byte
// alignment the streamed stores need, NaN through the forward ReLU.
TEST(ResidualKernels, Bf16VersionsMatchTheirDefinition) {
  using bf16_portable::bf16_to_float, bf16_portable::float_to_bf16;
  for (size_t n : {1u, 16u, 37u, 4096u, 100003u})
    for (size_t offset : {0u, 1u, 16u})
      for (bool relu : {false, true}) {
        std::mt19937 rng(static_cast<unsigned>(n + offset));
        std::normal_distribution<float> normal;
        std::vector<uint16_t> a(n + 32), b(n + 32), y(n + 32), out(n + 32, 0x1234);
        for (size_t i = 0; i < a.size(); ++i)
          a[i] = float_to_bf16(normal(rng)), b[i] = float_to_bf16(normal(rng)),
          y[i] = float_to_bf16(std::max(0.f, normal(rng)));
        if (n > 3) a[offset + 2] = 0x7fc0;  // NaN
        const uint16_t *pa = a.data() + offset, *pb = b.data() + offset, *py = y.data() + offset;
        residual_add_bf16(pa, pb, out.data() + offset, static_cast<int64_t>(n), relu, 2);
        for (size_t i = 0; i < n; ++i) {
          const float s = bf16_to_float(pa[i]) + bf16_to_float(pb[i]);
          ASSERT_EQ(out[offset + i], float_to_bf16(relu ? relu_keeping_nan(s) : s)) << n << " " << offset << " " << i;
        }
        EXPECT_EQ(out[offset + n], 0x1234) << "wrote past the end";
        residual_add_backward_bf16(pa, pb, py, out.data() + offset, static_cast<int64_t>(n), relu, 2);
        for (size_t i = 0; i < n; ++i) {
          const float s = bf16_to_float(pa[i]) + bf16_to_float(pb[i]);
          ASSERT_EQ(out[offset + i], float_to_bf16(!relu || bf16_to_float(py[i]) > 0.f ? s : 0.f))
              << n << " " << offset << " " << i;
        }
      }
}

// A blocked tensor in 64-byte-aligned memory, viewed from `offset` floats in (0: the AVX2 path,
// 4: 16-byte aligned only, the SSE2 path, 1: the scalar loop).
struct Blocked {
  BlockedDims d;
  std::unique_ptr<float, decltype(&std::free)> mem{nullptr, &std::free};
  float* p = nullptr;
  Blocked(const BlockedDims& dims, size_t offset) : d(dims) {
    const size_t n = static_cast<size_t>(d.n * d.blocks * d.spatial * d.block) + 16;
    mem.reset(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64)));
    p = mem.get() + offset;
    std::fill(mem.get(), mem.get() + n, 0.f);
  }
  float& at(int64_t n, int64_t c, int64_t k) {
    return p[((n * d.blocks + c / d.block) * d.spatial + k) * d.block + c % d.block];
  }
};

TEST(BatchNormAddKernel, MatchesBatchNormThenAddInBothBlockWidths) {
  std::printf("[bn+add] best vector path on this CPU: %s\n", batchnorm_add_isa());
  for (int64_t block : {16, 8})
    for (int64_t channels : {block, 3 * block - 5})  // the second leaves padding lanes
      for (size_t offset : {0u, 4u, 1u})
        for (bool relu : {false, true}) {
          BlockedDims d{3, channels, (channels + block - 1) / block, 7 * 9 + 2, block};  // odd spatial: the tails
          Blocked x(d, offset), id(d, offset), y(d, offset), y_sse(d, offset);
          std::mt19937 rng(static_cast<unsigned>(block * 1000 + channels));
          std::normal_distribution<float> normal;
          std::vector<float> gamma(static_cast<size_t>(channels)), beta(gamma.size());
          for (int64_t c = 0; c < channels; ++c) {
            gamma[static_cast<size_t>(c)] = 1.f + 0.3f * normal(rng), beta[static_cast<size_t>(c)] = normal(rng);
            const float shift = 3.f * normal(rng), spread = 0.5f + std::abs(normal(rng));  // a mean far from 0
            for (int64_t n = 0; n < d.n; ++n)
              for (int64_t k = 0; k < d.spatial; ++k)
                x.at(n, c, k) = shift + spread * normal(rng), id.at(n, c, k) = normal(rng);
          }
          const double eps = 1e-5;
          std::vector<float> mean(gamma.size()), var(gamma.size()), mean2(gamma.size()), var2(gamma.size());
          std::vector<float> lanes(static_cast<size_t>(3 * d.blocks * block));
          batchnorm_add_forward(x.p, id.p, y.p, d, gamma.data(), beta.data(), eps, relu, mean.data(), var.data(),
                                lanes.data(), 2);
          batchnorm_add_forward(x.p, id.p, y_sse.p, d, gamma.data(), beta.data(), eps, relu, mean2.data(),
                                var2.data(), lanes.data(), 2, KernelIsa::sse2);
          const std::string where = "block " + std::to_string(block) + " C " + std::to_string(channels) + " offset " +
                                    std::to_string(offset) + (relu ? " relu" : "");
          for (int64_t c = 0; c < channels; ++c) {
            double m = 0, v = 0;
            const double count = static_cast<double>(d.n * d.spatial);
            for (int64_t n = 0; n < d.n; ++n)
              for (int64_t k = 0; k < d.spatial; ++k) m += x.at(n, c, k);
            m /= count;
            for (int64_t n = 0; n < d.n; ++n)
              for (int64_t k = 0; k < d.spatial; ++k) v += (x.at(n, c, k) - m) * (x.at(n, c, k) - m);
            v /= count;
            const auto i = static_cast<size_t>(c);
            ASSERT_NEAR(mean[i], m, 1e-6 * (1 + std::abs(m))) << where << " c " << c;
            ASSERT_NEAR(var[i], v, 1e-5 * v) << where << " c " << c;
            EXPECT_EQ(mean[i], mean2[i]) << where << ": AVX2 and SSE2 statistics differ";
            EXPECT_EQ(var[i], var2[i]) << where;
            const double scale = gamma[i] / std::sqrt(v + eps);
            for (int64_t n = 0; n < d.n; ++n)
              for (int64_t k = 0; k < d.spatial; ++k) {
                double want = (x.at(n, c, k) - m) * scale + beta[i] + id.at(n, c, k);
                if (relu) want = std::max(0.0, want);
                ASSERT_NEAR(y.at(n, c, k), want, 1e-5 * (1 + std::abs(want))) << where << " c " << c << " k " << k;
                ASSERT_EQ(y.at(n, c, k), y_sse.at(n, c, k)) << where << ": AVX2 and SSE2 outputs differ";
              }
          }
          for (int64_t c = channels; c < d.blocks * block; ++c)  // padding lanes stay zero
            for (int64_t k = 0; k < d.spatial; ++k) ASSERT_EQ(y.at(d.n - 1, c, k), 0.f) << where << " padding c " << c;
        }
}

TEST(BatchNormAddKernel, RefusesOtherBlockWidths) {
  const BlockedDims d{1, 4, 1, 4, 4};
  std::vector<float> buf(64), stats(4), lanes(12), gamma(4, 1.f), beta(4, 0.f);
  EXPECT_THROW(batchnorm_add_forward(buf.data(), buf.data(), buf.data(), d, gamma.data(), beta.data(), 1e-5, false,
                                     stats.data(), stats.data(), lanes.data(), 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace cxr::dnn
