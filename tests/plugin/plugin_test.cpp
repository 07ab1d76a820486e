// The example out-of-tree plugin (plugins/examples/gelu) loaded at run time like `--plugin`:
// its op joins the registry with test cases, its reference passes a finite-difference check,
// and every other backend it implements matches the reference forward and backward.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "engine/layer_registry.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

const std::string kPlugin = std::string(CXRTUNE_BINARY_DIR) + "/plugins/libcxrtune_gelu.so";

std::vector<float> run_layer(Layer& layer, Backend& backend, const OpCase& c,
                             const std::vector<float>& x, const std::vector<float>& dy,
                             std::vector<float>* dx_out) {
  const TensorDesc in_desc = plain_desc(c.inputs[0]);
  const TensorDesc ins[1] = {in_desc};
  const TensorDesc out_desc = layer.prepare(ins, PrepareInfo{});
  Tensor xt = backend.allocate(in_desc), yt = backend.allocate(out_desc);
  Tensor dyt = backend.allocate(out_desc), dxt = backend.allocate(in_desc);
  backend.write_plain(xt, x.data());
  Context ctx;
  const Tensor* xs[1] = {&xt};
  layer.forward(xs, yt, ctx);
  std::vector<float> y(x.size());
  backend.read_plain(yt, y.data());
  if (dx_out) {
    backend.write_plain(dyt, dy.data());
    Tensor* dxs[1] = {&dxt};
    layer.backward(xs, yt, dyt, dxs, ctx);
    dx_out->resize(x.size());
    backend.read_plain(dxt, dx_out->data());
  }
  return y;
}

TEST(Plugin, MissingLibraryIsAUsageError) {
  LayerRegistry registry;
  EXPECT_THROW(load_plugin("/nonexistent/libnothing.so", registry), UsageError);
}

TEST(Plugin, GeluLoadsAndMatchesFiniteDifferencesAndReference) {
  LayerRegistry registry;
  register_all_layers(registry);
  load_plugin(kPlugin, registry);
  ASSERT_TRUE(registry.has("gelu", "reference"));
  ASSERT_NE(registry.op_info("gelu"), nullptr);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const OpCase& c : registry.op_info("gelu")->cases()) {
    std::vector<float> x(static_cast<size_t>(numel(c.inputs[0]))), dy(x.size());
    for (float& v : x) v = 2 * normal(rng);
    for (float& v : dy) v = normal(rng);
    auto ref_backend = make_backend("reference", 1);
    auto ref = registry.create(*c.params, *ref_backend);
    std::vector<float> dx_ref;
    const auto y_ref = run_layer(*ref, *ref_backend, c, x, dy, &dx_ref);
    // Finite differences of Σ dy·gelu(x) in double through the layer's float outputs.
    for (size_t i = 0; i < x.size(); i += 7) {
      std::vector<float> xp = x, xm = x;
      const float h = 1e-2f;
      xp[i] += h, xm[i] -= h;
      const auto yp = run_layer(*ref, *ref_backend, c, xp, dy, nullptr);
      const auto ym = run_layer(*ref, *ref_backend, c, xm, dy, nullptr);
      const double numeric = (static_cast<double>(yp[i]) - ym[i]) / (2 * h) * dy[i];
      EXPECT_NEAR(dx_ref[i], numeric, 1e-3 + 1e-3 * std::abs(numeric)) << "x=" << x[i];
    }
    for (const std::string& name : compiled_backends()) {
      if (name == "reference" || !registry.has("gelu", name) || !backend_usable(name)) continue;
      auto backend = make_backend(name, 2);
      auto layer = registry.create(*c.params, *backend);
      std::vector<float> dx;
      const auto y = run_layer(*layer, *backend, c, x, dy, &dx);
      for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_NEAR(y[i], y_ref[i], 1e-5 + 1e-4 * std::abs(y_ref[i])) << name << " y[" << i << "]";
        EXPECT_NEAR(dx[i], dx_ref[i], 1e-5 + 1e-4 * std::abs(dx_ref[i])) << name << " dx[" << i << "]";
      }
    }
  }
}

}  // namespace
}  // namespace cxr
