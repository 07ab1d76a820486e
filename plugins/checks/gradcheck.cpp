#include "plugins/checks/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <random>

#include "plugins/backends.h"

namespace cxr::checks {
namespace {

constexpr double kStep = 1e-3, kTolerance = 1e-2;
constexpr size_t kProbes = 40;

struct Probe {
  Backend& backend;
  Layer& layer;
  std::vector<Tensor> x;
  Tensor y;
  std::vector<float> r;  // the random cotangent: the checked scalar is Σ r·y

  // Σ r·y in double after one training forward.
  double objective() {
    std::vector<const Tensor*> xs;
    for (const Tensor& t : x) xs.push_back(&t);
    Context ctx;
    ctx.training = true;
    layer.forward(xs, y, ctx);
    std::vector<float> out(static_cast<size_t>(y.numel()));
    backend.read_plain(y, out.data());
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += static_cast<double>(r[i]) * out[i];
    return s;
  }
};

std::vector<float> read(Backend& b, const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  b.read_plain(t, v.data());
  return v;
}

// Central differences of the objective over `value` (an input or a parameter) against
// `analytic`; records one error for the tensor in `row`.
void check_tensor(Probe& p, Tensor& value, const std::vector<float>& analytic, const std::string& where,
                  CheckRow& row) {
  std::vector<float> v = read(p.backend, value);
  const double centre = p.objective();
  double scale = 1e-4;
  for (float a : analytic) scale = std::max(scale, static_cast<double>(std::abs(a)));
  const size_t stride = std::max<size_t>(1, v.size() / kProbes);
  // One central difference at element i with step h: the quotient and the two one-sided ones,
  // over the steps as stored in f32 (the differences actually applied).
  struct Estimate {
    double central, right, left;
  };
  auto estimate = [&](size_t i, double h) {
    const float saved = v[i];
    const float up_x = saved + static_cast<float>(h), down_x = saved - static_cast<float>(h);
    v[i] = up_x;
    p.backend.write_plain(value, v.data());
    const double up = p.objective();
    v[i] = down_x;
    p.backend.write_plain(value, v.data());
    const double down = p.objective();
    v[i] = saved;
    p.backend.write_plain(value, v.data());
    const double hu = static_cast<double>(up_x) - saved, hd = static_cast<double>(saved) - down_x;
    return Estimate{(up - down) / (hu + hd), (up - centre) / hu, (centre - down) / hd};
  };
  double worst = 0;
  int probed = 0, kinks = 0;
  for (size_t i = 0; i < v.size(); i += stride) {
    ++probed;
    const Estimate e = estimate(i, kStep);
    if (std::abs(e.right - e.left) > 0.1 * scale) {
      ++kinks;
      continue;
    }
    double err = std::abs(e.central - analytic[i]) / scale;
    // A kink of a sum (a fused ReLU under a BN bias) can sit within h without splitting the
    // one-sided differences much; a ten times smaller step almost never straddles it, while a
    // wrong derivative stays wrong at every step.
    if (!(err < kTolerance)) err = std::min(err, std::abs(estimate(i, kStep / 10).central - analytic[i]) / scale);
    if (std::isnan(e.central) || std::isnan(analytic[i])) err = std::nan("");
    if (std::isnan(err) || err > worst) worst = err;
  }
  p.objective();  // leave the layer's saved state as for the unperturbed values
  if (kinks * 4 > probed) {
    row.fail(where + ": " + std::to_string(kinks) + " of " + std::to_string(probed) +
             " probes are at a non-smooth point (the one-sided differences disagree)");
    return;
  }
  row.record(worst, where);
}

void check_case(const LayerRegistry& registry, Backend& ref, const OpCase& c, std::mt19937& rng, CheckRow& row) {
  std::normal_distribution<float> normal;
  auto layer = registry.create(*c.params, ref);
  PrepareInfo info;
  info.training = true;
  std::vector<TensorDesc> descs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    descs.push_back(plain_desc(c.inputs[i]));
    info.needs_input_grad.push_back(c.differentiable.empty() || c.differentiable[i]);
  }
  const TensorDesc out = layer->prepare(descs, info);
  Probe p{ref, *layer, {}, ref.allocate(out), {}};
  for (size_t i = 0; i < descs.size(); ++i) {
    std::vector<float> values(static_cast<size_t>(numel(c.inputs[i])));
    if (c.fill) c.fill(i, values, rng);
    else for (float& v : values) v = normal(rng);
    p.x.push_back(ref.allocate(descs[i]));
    ref.write_plain(p.x.back(), values.data());
  }
  for (Parameter& param : layer->parameters()) {
    std::vector<float> values(static_cast<size_t>(param.value.numel()));
    const bool scale_like = param.name == "weight" && c.params->op() == "batchnorm2d";
    for (float& v : values) v = (scale_like ? 1.0f : 0.0f) + 0.5f * normal(rng);
    ref.write_plain(param.value, values.data());
  }
  p.r.resize(static_cast<size_t>(numel(out.shape)));
  for (float& v : p.r) v = normal(rng);
  // The analytic gradients: one forward and backward with dy = r.
  p.objective();
  Tensor dy = ref.allocate(out);
  ref.write_plain(dy, p.r.data());
  std::vector<Tensor> dx;
  std::vector<Tensor*> dxs;
  dx.reserve(descs.size());
  for (size_t i = 0; i < descs.size(); ++i) {
    dx.push_back(ref.allocate(descs[i]));
    dxs.push_back(info.needs_grad(i) ? &dx.back() : nullptr);
  }
  std::vector<const Tensor*> xs;
  for (const Tensor& t : p.x) xs.push_back(&t);
  Context ctx;
  ctx.training = true;
  layer->backward(xs, p.y, dy, dxs, ctx);
  std::vector<std::vector<float>> param_grads;
  for (const Parameter& param : layer->parameters()) param_grads.push_back(read(ref, param.grad));
  const std::string name = c.params->str();
  for (size_t i = 0; i < descs.size(); ++i)
    if (info.needs_grad(i)) check_tensor(p, p.x[i], read(ref, dx[i]), name + " d input " + std::to_string(i), row);
  for (size_t k = 0; k < layer->parameters().size(); ++k)
    check_tensor(p, layer->parameters()[k].value, param_grads[k], name + " d " + layer->parameters()[k].name, row);
  ++row.runs;
}

}  // namespace

CheckRow gradcheck_reference(const LayerRegistry& registry, const std::string& op) {
  CheckRow row;
  row.kind = "gradcheck", row.op = op, row.backend = "reference", row.precision = "fd";
  row.tolerance = kTolerance;
  row.passed = true;
  const OpInfo* info = registry.op_info(op);
  if (!info) {
    row.fail("op '" + op + "' has no OpInfo (no test cases registered)");
    return row;
  }
  if (!registry.has(op, "reference")) {
    row.fail("op '" + op + "' has no reference implementation to check");
    return row;
  }
  const std::vector<OpCase> cases = info->cases();
  if (cases.empty()) row.fail("op '" + op + "' registers no test cases");
  auto ref = make_backend("reference", 1);
  std::mt19937 rng(11);
  for (const OpCase& c : cases) {
    try {
      check_case(registry, *ref, c, rng, row);
    } catch (const std::exception& e) {
      row.fail(c.params->str() + ": " + e.what());
    }
  }
  return row;
}

}  // namespace cxr::checks
