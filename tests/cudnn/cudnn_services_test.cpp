// The cuDNN backend's services against the host backend (engine/host_backend.cpp, the
// torch.optim semantics): Adam/AdamW and SGD steps bit for bit (the kernels are built without
// FMA contraction to round like the host), sum_squares, all_finite, scale, copy, zero, and the
// plain ⇄ NHWC/bf16/f16 conversion of write_plain/read_plain (including the physical NHWC order).
// Skipped without a GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "plugins/backends.h"
#include "plugins/cudnn/cudnn_backend.h"

namespace cxr {
namespace {

class CudnnServices : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!backend_usable("cudnn", &why)) GTEST_SKIP() << why;
    gpu_ = make_backend("cudnn", 1);
    host_ = make_backend("reference", 1);
  }
  std::vector<float> random(int64_t n, float scale, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = scale * normal(rng);
    return v;
  }
  Tensor make(Backend& b, const std::vector<float>& v) {
    Tensor t = b.allocate(plain_desc({static_cast<int64_t>(v.size())}));
    b.write_plain(t, v.data());
    return t;
  }
  std::vector<float> read(Backend& b, const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    b.read_plain(t, v.data());
    return v;
  }
  // Elements that differ at all, and the worst relative difference.
  static std::pair<int64_t, double> diff(const std::vector<float>& a, const std::vector<float>& b) {
    int64_t differ = 0;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) ++differ;
      worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) /
                                  std::max(1.0, std::abs(static_cast<double>(b[i]))));
    }
    return {differ, worst};
  }

  std::unique_ptr<Backend> gpu_, host_;
};

constexpr int64_t kSizes[] = {7, 100003};

TEST_F(CudnnServices, AdamAndAdamWMatchTheHostBitForBit) {
  struct Config {
    bool decoupled;
    double wd;
  };
  for (const Config cfg : {Config{false, 0.0}, Config{false, 0.01}, Config{true, 0.05}})
    for (int64_t n : kSizes) {
      const auto p0 = random(n, 1.0f, 1);
      Tensor gp = make(*gpu_, p0), hp = make(*host_, p0);
      Tensor gm = make(*gpu_, std::vector<float>(p0.size())),
             hm = make(*host_, std::vector<float>(p0.size()));
      Tensor gv = make(*gpu_, std::vector<float>(p0.size())),
             hv = make(*host_, std::vector<float>(p0.size()));
      for (int64_t step = 1; step <= 3; ++step) {
        const auto g = random(n, 0.1f, static_cast<uint32_t>(10 + step));
        Tensor gg = make(*gpu_, g), hg = make(*host_, g);
        AdamStep s;
        s.lr = 1e-3, s.weight_decay = cfg.wd, s.decoupled = cfg.decoupled, s.step = step;
        gpu_->adam_update(s, gp, gg, gm, gv);
        host_->adam_update(s, hp, hg, hm, hv);
      }
      for (auto [g, h, what] :
           {std::tuple{&gp, &hp, "param"}, {&gm, &hm, "exp_avg"}, {&gv, &hv, "exp_avg_sq"}}) {
        const auto [differ, worst] = diff(read(*gpu_, *g), read(*host_, *h));
        EXPECT_LT(worst, 1e-6) << what << " n=" << n << " decoupled=" << cfg.decoupled
                               << " wd=" << cfg.wd;
        EXPECT_EQ(differ, 0) << what << ": elements not bit-identical (worst " << worst << ")";
      }
    }
}

TEST_F(CudnnServices, SgdMatchesTheHostBitForBit) {
  struct Config {
    double momentum, dampening, wd;
    bool nesterov;
  };
  for (const Config cfg :
       {Config{0, 0, 0, false}, Config{0.9, 0.1, 0, false}, Config{0.9, 0, 1e-4, true}})
    for (int64_t n : kSizes) {
      const auto p0 = random(n, 1.0f, 2);
      Tensor gp = make(*gpu_, p0), hp = make(*host_, p0);
      Tensor gb, hb;
      if (cfg.momentum != 0)
        gb = make(*gpu_, std::vector<float>(p0.size())),
        hb = make(*host_, std::vector<float>(p0.size()));
      for (int step = 1; step <= 3; ++step) {
        const auto g = random(n, 0.1f, static_cast<uint32_t>(20 + step));
        Tensor gg = make(*gpu_, g), hg = make(*host_, g);
        SgdStep s;
        s.lr = 0.01, s.momentum = cfg.momentum, s.dampening = cfg.dampening,
        s.weight_decay = cfg.wd;
        s.nesterov = cfg.nesterov, s.first_step = step == 1;
        gpu_->sgd_update(s, gp, gg, gb);
        host_->sgd_update(s, hp, hg, hb);
      }
      const auto [differ, worst] = diff(read(*gpu_, gp), read(*host_, hp));
      EXPECT_LT(worst, 1e-6) << "momentum " << cfg.momentum << " n=" << n;
      EXPECT_EQ(differ, 0) << "not bit-identical (worst " << worst << ")";
    }
}

TEST_F(CudnnServices, ReductionsScaleCopyAndZero) {
  for (int64_t n : kSizes) {
    auto v = random(n, 3.0f, 3);
    Tensor g = make(*gpu_, v), h = make(*host_, v);
    const double want = host_->sum_squares(h), got = gpu_->sum_squares(g);
    EXPECT_NEAR(got, want, 1e-12 * want) << "n=" << n;
    EXPECT_TRUE(gpu_->all_finite(g));
    gpu_->scale(g, 0.25);
    host_->scale(h, 0.25);
    EXPECT_EQ(diff(read(*gpu_, g), read(*host_, h)).first, 0);
    Tensor c = gpu_->allocate(g.desc());
    gpu_->copy(g, c);
    EXPECT_EQ(read(*gpu_, c), read(*gpu_, g));
    gpu_->zero(c);
    EXPECT_EQ(gpu_->sum_squares(c), 0.0);
    for (float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      auto w = v;
      w[static_cast<size_t>(n / 2)] = bad;
      Tensor t = make(*gpu_, w);
      EXPECT_FALSE(gpu_->all_finite(t)) << bad;
      EXPECT_FALSE(std::isfinite(gpu_->sum_squares(t))) << bad;
    }
  }
}

TEST_F(CudnnServices, PlainDataRoundTripsThroughEveryLayoutAndDtype) {
  const Shape shape{2, 5, 3, 7};
  const auto v = random(numel(shape), 1.0f, 4);
  for (DType dt : {DType::F32, DType::BF16, DType::F16})
    for (bool nhwc : {false, true}) {
      const TensorDesc d = nhwc ? nhwc_desc(shape, dt) : plain_desc(shape, dt);
      Tensor t = gpu_->allocate(d);
      gpu_->write_plain(t, v.data());
      const auto back = read(*gpu_, t);
      const double tol = dt == DType::F32 ? 0.0 : dt == DType::BF16 ? 1.0 / 256 : 1.0 / 2048;
      double worst = 0;
      for (size_t i = 0; i < v.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(back[i]) - v[i]) /
                                    std::max(1e-3, std::abs(static_cast<double>(v[i]))));
      EXPECT_LE(worst, tol) << d.str();
    }
  // The physical order of an f32 NHWC tensor: element (n, c, h, w) at ((n·H + h)·W + w)·C + c.
  Tensor t = gpu_->allocate(nhwc_desc(shape, DType::F32));
  gpu_->write_plain(t, v.data());
  std::vector<float> raw(v.size());
  ASSERT_EQ(cudaMemcpy(raw.data(), t.data(), raw.size() * sizeof(float), cudaMemcpyDeviceToHost),
            cudaSuccess);
  const int64_t C = shape[1], H = shape[2], W = shape[3];
  for (int64_t n = 0; n < shape[0]; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          ASSERT_EQ(raw[static_cast<size_t>(((n * H + h) * W + w) * C + c)],
                    v[static_cast<size_t>(((n * C + c) * H + h) * W + w)]);
}

}  // namespace
}  // namespace cxr
