// Finite-difference gradient check, in double, of every reference kernel (plugins/reference/
// kernels.h) on every registered test case of its op: d/dv Σ r·f(v) by central differences
// against the analytic backward, for every input and parameter. Also BN's running statistics
// against the PyTorch formula.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "engine/layer_registry.h"
#include "plugins/ops/add.h"
#include "plugins/ops/batchnorm2d.h"
#include "plugins/ops/bce_with_logits.h"
#include "plugins/ops/conv2d.h"
#include "plugins/ops/linear.h"
#include "plugins/ops/maxpool2d.h"
#include "plugins/ops/register.h"
#include "plugins/ops/softmax_cross_entropy.h"
#include "plugins/reference/kernels.h"

namespace cxr {
namespace {

using Vec = std::vector<double>;

struct Checker {
  std::mt19937 rng{11};
  double worst = 0;

  Vec randn(int64_t n, double scale = 1.0) {
    std::normal_distribution<double> d(0.0, scale);
    Vec v(static_cast<size_t>(n));
    for (double& x : v) x = d(rng);
    return v;
  }
  static double dot(const Vec& a, const Vec& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  }
  // Compares `analytic` with central differences of Σ r·f over up to ~40 elements of `var`.
  void check(const std::string& what, Vec& var, const std::function<Vec()>& f, const Vec& r,
             const Vec& analytic) {
    ASSERT_EQ(var.size(), analytic.size()) << what;
    const size_t stride = std::max<size_t>(1, var.size() / 40);
    for (size_t i = 0; i < var.size(); i += stride) {
      const double saved = var[i], h = 1e-6;
      var[i] = saved + h;
      const double up = dot(r, f());
      var[i] = saved - h;
      const double down = dot(r, f());
      var[i] = saved;
      const double numeric = (up - down) / (2 * h);
      const double err = std::abs(numeric - analytic[i]) / std::max({1.0, std::abs(numeric), std::abs(analytic[i])});
      worst = std::max(worst, err);
      EXPECT_LT(err, 1e-6) << what << "[" << i << "]: numeric " << numeric << " analytic " << analytic[i];
    }
  }
};

std::vector<OpCase> cases_of(const std::string& op) {
  LayerRegistry r;
  register_ops(r);
  return r.op_info(op)->cases();
}

ref::Dims4 d4(const Shape& s) { return {s[0], s[1], s[2], s[3]}; }

TEST(Gradcheck, Conv2d) {
  Checker c;
  for (const OpCase& oc : cases_of("conv2d")) {
    const auto& p = dynamic_cast<const ops::Conv2dParams&>(*oc.params);
    const Shape out = p.output_shape(oc.inputs);
    Vec x = c.randn(numel(oc.inputs[0])), w = c.randn(numel(p.weight_shape()), 0.3);
    Vec b = p.bias ? c.randn(p.out_channels) : Vec();
    const Vec r = c.randn(numel(out));
    auto f = [&] {
      Vec y(r.size());
      ref::conv2d_forward(x.data(), d4(oc.inputs[0]), w.data(), p.bias ? b.data() : nullptr, p.out_channels,
                          p.kernel, p.stride, p.padding, y.data(), out[2], out[3]);
      return y;
    };
    Vec dx(x.size()), dw(w.size()), db(static_cast<size_t>(p.out_channels));
    ref::conv2d_backward(x.data(), d4(oc.inputs[0]), w.data(), p.out_channels, p.kernel, p.stride, p.padding,
                         r.data(), out[2], out[3], dx.data(), dw.data(), p.bias ? db.data() : nullptr);
    c.check(p.str() + " dx", x, f, r, dx);
    c.check(p.str() + " dw", w, f, r, dw);
    if (p.bias) c.check(p.str() + " db", b, f, r, db);
  }
}

TEST(Gradcheck, BatchNorm2dTrainingAndRunningStats) {
  Checker c;
  for (const OpCase& oc : cases_of("batchnorm2d")) {
    const auto& p = dynamic_cast<const ops::BatchNorm2dParams&>(*oc.params);
    const ref::Dims4 d = d4(oc.inputs[0]);
    Vec x = c.randn(numel(oc.inputs[0])), g = c.randn(p.channels, 0.5), b = c.randn(p.channels, 0.5);
    for (double& v : g) v += 1.0;
    const Vec r = c.randn(static_cast<int64_t>(x.size()));
    Vec mean(static_cast<size_t>(p.channels)), var(mean.size());
    auto f = [&] {
      Vec y(x.size()), m(mean.size()), v(mean.size());
      ref::batchnorm_forward_train(x.data(), d, g.data(), b.data(), p.eps, p.fuse_relu, y.data(), m.data(), v.data());
      return y;
    };
    Vec y(x.size());
    ref::batchnorm_forward_train(x.data(), d, g.data(), b.data(), p.eps, p.fuse_relu, y.data(), mean.data(), var.data());
    Vec dx(x.size()), dg(g.size()), db(b.size());
    ref::batchnorm_backward_train(x.data(), d, g.data(), mean.data(), var.data(), p.eps, p.fuse_relu, y.data(),
                                  r.data(), dx.data(), dg.data(), db.data());
    if (d.n * d.h * d.w > 1) c.check(p.str() + " dx", x, f, r, dx);  // one sample per channel: x̂ ≡ 0
    c.check(p.str() + " dgamma", g, f, r, dg);
    c.check(p.str() + " dbeta", b, f, r, db);
    // The batch statistics that feed the running averages: mean and biased variance.
    const int64_t hw = d.h * d.w;
    for (int64_t ch = 0; ch < d.c; ++ch) {
      double s = 0, sq = 0;
      for (int64_t n = 0; n < d.n; ++n)
        for (int64_t i = 0; i < hw; ++i) s += x[static_cast<size_t>((n * d.c + ch) * hw + i)];
      const double mu = s / static_cast<double>(d.n * hw);
      for (int64_t n = 0; n < d.n; ++n)
        for (int64_t i = 0; i < hw; ++i) sq += std::pow(x[static_cast<size_t>((n * d.c + ch) * hw + i)] - mu, 2);
      EXPECT_NEAR(mean[static_cast<size_t>(ch)], mu, 1e-12);
      EXPECT_NEAR(var[static_cast<size_t>(ch)], sq / static_cast<double>(d.n * hw), 1e-12);
    }
  }
}

TEST(Gradcheck, MaxPool2d) {
  Checker c;
  for (const OpCase& oc : cases_of("maxpool2d")) {
    const auto& p = dynamic_cast<const ops::MaxPool2dParams&>(*oc.params);
    const Shape out = p.output_shape(oc.inputs);
    Vec x = c.randn(numel(oc.inputs[0]));
    const Vec r = c.randn(numel(out));
    std::vector<int64_t> arg(r.size());
    auto f = [&] {
      Vec y(r.size());
      std::vector<int64_t> a(r.size());
      ref::maxpool_forward(x.data(), d4(oc.inputs[0]), p.kernel, p.stride, p.padding, y.data(), out[2], out[3], a.data());
      return y;
    };
    Vec y(r.size()), dx(x.size());
    ref::maxpool_forward(x.data(), d4(oc.inputs[0]), p.kernel, p.stride, p.padding, y.data(), out[2], out[3], arg.data());
    ref::maxpool_backward(d4(oc.inputs[0]), r.data(), static_cast<int64_t>(r.size()), arg.data(), dx.data());
    c.check(p.str() + " dx", x, f, r, dx);
  }
}

TEST(Gradcheck, MaxPool2dTiesGoToTheFirstMaximum) {
  const Vec x{1, 3, 3, 0};  // one 2×2 window, two equal maxima
  Vec y(1), dx(4);
  std::vector<int64_t> arg(1);
  ref::maxpool_forward(x.data(), {1, 1, 2, 2}, 2, 2, 0, y.data(), 1, 1, arg.data());
  const Vec dy{1};
  ref::maxpool_backward({1, 1, 2, 2}, dy.data(), 1, arg.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 1, 0, 0}));
}

TEST(Gradcheck, ElementwiseAndPooling) {
  Checker c;
  for (Shape s : {Shape{2, 16, 5, 7}, Shape{1, 17, 3, 3}}) {
    const int64_t n = numel(s);
    Vec x = c.randn(n), a = c.randn(n), b = c.randn(n);
    const Vec r = c.randn(n);
    Vec dx(x.size());
    ref::relu_backward(x.data(), r.data(), n, dx.data());
    c.check("relu dx", x, [&] { Vec y(x.size()); ref::relu_forward(x.data(), n, y.data()); return y; }, r, dx);
    for (bool relu : {false, true}) {
      auto f = [&] { Vec y(a.size()); ref::add_forward(a.data(), b.data(), n, relu, y.data()); return y; };
      const Vec y = f();
      Vec d(a.size());
      ref::add_backward(y.data(), r.data(), n, relu, d.data());
      c.check("add da", a, f, r, d);
      c.check("add db", b, f, r, d);
    }
    const Vec rp = c.randn(s[0] * s[1]);
    Vec dp(x.size());
    ref::avgpool_backward(d4(s), rp.data(), dp.data());
    c.check("global_avgpool dx", x, [&] { Vec y(rp.size()); ref::avgpool_forward(x.data(), d4(s), y.data()); return y; }, rp, dp);
  }
}

TEST(Gradcheck, Linear) {
  Checker c;
  for (const OpCase& oc : cases_of("linear")) {
    const auto& p = dynamic_cast<const ops::LinearParams&>(*oc.params);
    const int64_t n = oc.inputs[0][0];
    Vec x = c.randn(n * p.in_features), w = c.randn(p.out_features * p.in_features), b = c.randn(p.out_features);
    const Vec r = c.randn(n * p.out_features);
    auto f = [&] {
      Vec y(r.size());
      ref::linear_forward(x.data(), w.data(), p.bias ? b.data() : nullptr, n, p.in_features, p.out_features, y.data());
      return y;
    };
    Vec dx(x.size()), dw(w.size()), db(b.size());
    ref::linear_backward(x.data(), w.data(), r.data(), n, p.in_features, p.out_features, dx.data(), dw.data(),
                         p.bias ? db.data() : nullptr);
    c.check(p.str() + " dx", x, f, r, dx);
    c.check(p.str() + " dw", w, f, r, dw);
    if (p.bias) c.check(p.str() + " db", b, f, r, db);
  }
}

TEST(Gradcheck, SoftmaxCrossEntropy) {
  Checker c;
  for (const OpCase& oc : cases_of("softmax_cross_entropy")) {
    const auto& p = dynamic_cast<const ops::SoftmaxCrossEntropyParams&>(*oc.params);
    const int64_t n = oc.inputs[0][0], k = oc.inputs[0][1];
    Vec z = c.randn(n * k, 2.0);
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) y[static_cast<size_t>(i)] = (i * 7 + 1) % k;
    const Vec w(p.class_weights.begin(), p.class_weights.end());
    const double* wp = w.empty() ? nullptr : w.data();
    auto f = [&] { return Vec{ref::softmax_cross_entropy<double>(z.data(), y.data(), wp, p.label_smoothing, n, k, nullptr)}; };
    Vec dz(z.size());
    ref::softmax_cross_entropy<double>(z.data(), y.data(), wp, p.label_smoothing, n, k, dz.data());
    c.check("softmax_cross_entropy dz", z, f, Vec{1.0}, dz);
  }
}

TEST(Gradcheck, BceWithLogits) {
  Checker c;
  for (const OpCase& oc : cases_of("bce_with_logits")) {
    const auto& p = dynamic_cast<const ops::BceWithLogitsParams&>(*oc.params);
    const int64_t n = oc.inputs[0][0], k = oc.inputs[0][1];
    Vec z = c.randn(n * k, 3.0), t(z.size());
    for (size_t i = 0; i < t.size(); ++i) t[i] = (i % 3 == 0) ? 1.0 : 0.0;
    const Vec pw(p.pos_weight.begin(), p.pos_weight.end());
    const double* pwp = pw.empty() ? nullptr : pw.data();
    auto f = [&] { return Vec{ref::bce_with_logits<double>(z.data(), t.data(), pwp, n, k, nullptr)}; };
    Vec dz(z.size());
    ref::bce_with_logits<double>(z.data(), t.data(), pwp, n, k, dz.data());
    c.check("bce_with_logits dz", z, f, Vec{1.0}, dz);
  }
}

}  // namespace
}  // namespace cxr
