// The oneDNN backend's streamed residual-add loops against their scalar definition: every
// element of aligned buffers, unaligned views and odd lengths (the scalar tails), the ReLU mask
// of the backward, and NaN and infinity passing through the forward ReLU as they do in oneDNN's
// (a NaN loss must stay visible to the trainer, which stops on it).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

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

}  // namespace
}  // namespace cxr::dnn
