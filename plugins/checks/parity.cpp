#include "plugins/checks/parity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <random>

#include "core/errors.h"
#include "plugins/backends.h"

namespace cxr::checks {
namespace {

double tolerance(DType dtype) { return dtype == DType::BF16 ? 1e-2 : dtype == DType::F16 ? 2e-3 : 1e-4; }

// Rounds to the nearest bf16 / f16 value (ties to even), so that both backends read the same
// numbers (two nearby values of a max-pooling window must not become a tie broken differently).
float round_to(DType dtype, float v) {
  if (dtype == DType::F32 || !std::isfinite(v)) return v;
  if (dtype == DType::F16) {
    const float a = std::abs(v);
    if (a < 6.1035e-5f) return v;  // keep subnormals out of it: test data is normal(0, 1)
    const int e = std::ilogb(a);
    const float q = std::ldexp(1.0f, e - 10);
    return std::copysign(std::nearbyint(a / q) * q, v);
  }
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&v, &bits, 4);
  return v;
}

std::vector<float> read(Backend& b, const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  b.read_plain(t, v.data());
  return v;
}

// max |a − b| / max(1, max |b|): relative to the magnitude of the reference tensor.
double error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - b[i]);
    if (std::isnan(d)) return d;
    num = std::max(num, d);
    den = std::max(den, static_cast<double>(std::abs(b[i])));
  }
  return num / den;
}

enum class Feed { Plain, Native, Mixed };
const char* feed_name(Feed f) { return f == Feed::Plain ? " plain" : f == Feed::Native ? " native" : " mixed"; }

bool mixed_applies(const ParityTarget& t) {
  return t.backend == "cudnn" && (t.op == "add" || (t.op == "linear" && t.dtype != DType::F32));
}

TensorDesc input_desc(Backend& backend, const Shape& shape, size_t i, bool diff, Feed feed) {
  if (!diff || feed == Feed::Plain) return plain_desc(shape);
  if (feed == Feed::Native) return backend.activation_desc(shape);
  if (i > 0) return plain_desc(shape);
  return shape.size() == 4 ? backend.activation_desc(shape) : plain_desc(shape, backend.compute_dtype());
}

struct LayerRun {
  std::unique_ptr<Layer> layer;
  std::vector<Tensor> x, dx;
  Tensor y, dy;
};

// Prepares the case's layer on `backend` with inputs described per `feed` and runs forward (and
// backward when training) on the given plain data.
LayerRun run(const LayerRegistry& registry, Backend& backend, const OpCase& c, Feed feed, bool training,
             const std::vector<std::vector<float>>& inputs, const std::vector<float>& dy,
             const std::vector<std::vector<float>>& params) {
  LayerRun r;
  r.layer = registry.create(*c.params, backend);
  std::vector<TensorDesc> descs;
  PrepareInfo info;
  info.training = training;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const bool diff = c.differentiable.empty() || c.differentiable[i];
    descs.push_back(input_desc(backend, c.inputs[i], i, diff, feed));
    info.needs_input_grad.push_back(diff);
  }
  const TensorDesc out = r.layer->prepare(descs, info);
  for (size_t i = 0; i < params.size(); ++i) backend.write_plain(r.layer->parameters()[i].value, params[i].data());
  std::vector<const Tensor*> xs;
  for (size_t i = 0; i < descs.size(); ++i) {
    r.x.push_back(backend.allocate(descs[i]));
    backend.write_plain(r.x.back(), inputs[i].data());
  }
  for (const Tensor& t : r.x) xs.push_back(&t);
  r.y = backend.allocate(out);
  Context ctx;
  ctx.training = training;
  r.layer->forward(xs, r.y, ctx);
  if (!training) {
    backend.synchronize();
    return r;
  }
  r.dy = backend.allocate(out);
  backend.write_plain(r.dy, dy.data());
  std::vector<Tensor*> dxs;
  r.dx.reserve(descs.size());  // dxs points into it
  for (size_t i = 0; i < descs.size(); ++i) {
    r.dx.push_back(backend.allocate(descs[i]));
    dxs.push_back(info.needs_grad(i) ? &r.dx.back() : nullptr);
  }
  r.layer->backward(xs, r.y, r.dy, dxs, ctx);
  backend.synchronize();
  return r;
}

// The training-mode extras: input and parameter gradients, the recompute contract, buffers.
void compare_training(Backend& other, Backend& ref, const OpCase& c, const LayerRun& got, const LayerRun& want,
                      const std::string& where, double tol, CheckRow& row) {
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!(c.differentiable.empty() || c.differentiable[i])) continue;
    row.record(error(read(other, got.dx[i]), read(ref, want.dx[i])), where + " d input " + std::to_string(i));
  }
  for (size_t k = 0; k < want.layer->parameters().size(); ++k)
    row.record(error(read(other, got.layer->parameters()[k].grad), read(ref, want.layer->parameters()[k].grad)),
               where + " d " + want.layer->parameters()[k].name);
  for (const LayerRun* r : {&got, &want}) {
    if (!r->layer->can_recompute_output()) continue;
    Backend& b = r == &got ? other : ref;
    Tensor again = b.allocate(r->y.desc());
    std::vector<const Tensor*> xs;
    for (const Tensor& t : r->x) xs.push_back(&t);
    Context ctx;
    r->layer->recompute(xs, again, ctx);
    b.synchronize();
    if (read(b, again) != read(b, r->y)) row.fail(where + " recomputed output differs from forward's (" + b.name() + ")");
  }
  for (size_t k = 0; k < want.layer->buffers().size(); ++k) {
    const Tensor& wb = want.layer->buffers()[k].value;
    const Tensor& gb = got.layer->buffers()[k].value;
    const std::string name = where + " " + want.layer->buffers()[k].name;
    if (wb.dtype() == DType::I64) {
      if (*gb.data_as<int64_t>() != *wb.data_as<int64_t>()) row.fail(name + " differs");
    } else if (!(error(read(other, gb), read(ref, wb)) < tol / 10)) {
      row.fail(name + ": relative error " + std::to_string(error(read(other, gb), read(ref, wb))));
    }
  }
}

void check_case(const LayerRegistry& registry, Backend& ref, Backend& other, const ParityTarget& t, const OpCase& c,
                std::mt19937& rng, CheckRow& row) {
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    inputs.emplace_back(static_cast<size_t>(numel(c.inputs[i])));
    if (c.fill) c.fill(i, inputs.back(), rng);
    else for (float& v : inputs.back()) v = normal(rng);
    for (float& v : inputs.back()) v = round_to(t.dtype, v);
  }
  // Parameters: random, BN scale around 1 (its typical range).
  auto probe = registry.create(*c.params, ref);
  std::vector<std::vector<float>> params;
  for (const Parameter& p : probe->parameters()) {
    params.emplace_back(static_cast<size_t>(p.value.numel()));
    const bool bn_scale = t.op == "batchnorm2d" && p.name == "weight";
    for (float& v : params.back()) v = round_to(t.dtype, (bn_scale ? 1.0f : 0.0f) + 0.5f * normal(rng));
  }
  for (bool training : {true, false}) {
    const LayerRun shape_probe = run(registry, ref, c, Feed::Plain, false, inputs, {}, params);
    std::vector<float> dy(static_cast<size_t>(shape_probe.y.numel()));
    for (float& v : dy) v = round_to(t.dtype, normal(rng));
    const LayerRun want = run(registry, ref, c, Feed::Plain, training, inputs, dy, params);
    for (Feed feed : {Feed::Plain, Feed::Native, Feed::Mixed}) {
      if (feed == Feed::Mixed && !mixed_applies(t)) continue;
      const LayerRun got = run(registry, other, c, feed, training, inputs, dy, params);
      const std::string where = c.params->str() + (training ? " train" : " eval") + feed_name(feed);
      row.record(error(read(other, got.y), read(ref, want.y)), where + " output");
      if (training) compare_training(other, ref, c, got, want, where, row.tolerance, row);
      ++row.runs;
    }
  }
}

}  // namespace

std::string ParityTarget::label() const {
  return to_string(dtype) + (conv_algorithm == "direct" ? "" : "/" + conv_algorithm);
}

std::vector<ParityTarget> parity_targets(const LayerRegistry& registry, const std::vector<std::string>& ops) {
  std::vector<ParityTarget> out;
  for (const auto& [op, backend] : registry.entries()) {
    if (backend == "reference") continue;
    if (!ops.empty() && std::find(ops.begin(), ops.end(), op) == ops.end()) continue;
    out.push_back({op, backend, DType::F32});
    if (backend == "onednn" && op == "conv2d") out.push_back({op, backend, DType::F32, "winograd"});
    if (backend == "onednn" || backend == "cudnn") out.push_back({op, backend, DType::BF16});
    if (backend == "cudnn") out.push_back({op, backend, DType::F16});
  }
  return out;
}

CheckRow parity_check(const LayerRegistry& registry, const ParityTarget& t) {
  CheckRow row;
  row.kind = "parity", row.op = t.op, row.backend = t.backend, row.precision = t.label();
  row.tolerance = tolerance(t.dtype);
  row.passed = true;
  std::string why;
  if (!backend_usable(t.backend, &why)) {
    row.skipped = true, row.skip_reason = why;
    return row;
  }
  std::unique_ptr<Backend> other;
  try {
    other = make_backend(t.backend, 2, t.dtype, t.conv_algorithm);
  } catch (const UsageError& e) {
    row.skipped = true, row.skip_reason = e.what();  // e.g. bf16 on a CPU without AVX512_BF16
    return row;
  }
  const OpInfo* info = registry.op_info(t.op);
  if (!info) {
    row.fail("op '" + t.op + "' has no OpInfo with test cases");
    return row;
  }
  if (!registry.has(t.op, "reference")) {
    row.fail("op '" + t.op + "' has no reference implementation to compare with");
    return row;
  }
  const std::vector<OpCase> cases = info->cases();
  if (cases.empty()) row.fail("op '" + t.op + "' registers no test cases");
  auto ref = make_backend("reference", 1);
  std::mt19937 rng(17);
  for (const OpCase& c : cases) {
    try {
      check_case(registry, *ref, *other, t, c, rng, row);
    } catch (const std::exception& e) {
      row.fail(c.params->str() + ": " + e.what());
    }
  }
  return row;
}

}  // namespace cxr::checks
