// Every (op, backend) entry of the registry against the reference backend, forward and
// backward, on every test case of the op: outputs, input gradients, parameter gradients and BN
// running statistics, in training and in eval mode. Inputs are fed both plain and in the
// backend's own activation layout (what a network gives a layer), and on cuDNN also mixed: a
// linear's 2-D input plain in the compute dtype (bf16/f16 GEMMs), an add's inputs one in the
// activation layout and one plain (the conversion path of a residual from another layout). Layers that can recompute
// their output (BN) must reproduce it bit for bit. A backend that cannot run on
// this machine (cudnn without a GPU) is reported as skipped; an entry without test cases fails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/errors.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

struct Entry {
  std::string op, backend;
  DType dtype = DType::F32;  // the backend's compute precision
  std::string conv_algorithm = "direct";
};
void PrintTo(const Entry& e, std::ostream* os) {
  *os << e.op << "/" << e.backend << "/" << to_string(e.dtype) << "/" << e.conv_algorithm;
}

// Relative error allowed against the double reference: f32 rounding, or the 8-bit (bf16) and
// 11-bit (f16) mantissas of the activations and weights the kernels read.
double tolerance(DType dtype) { return dtype == DType::BF16 ? 1e-2 : dtype == DType::F16 ? 2e-3 : 1e-4; }

// Rounds to the nearest bf16 / f16 value (ties to even), so that both backends read the same
// numbers: the test compares arithmetic, not input quantisation (which would, e.g., turn two
// nearby values of a max-pooling window into a tie broken differently).
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

class BackendParity : public ::testing::TestWithParam<Entry> {};

const LayerRegistry& registry() {
  static const LayerRegistry r = [] {
    LayerRegistry reg;
    register_all_layers(reg);
    return reg;
  }();
  return r;
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
    num = std::max(num, static_cast<double>(std::abs(a[i] - b[i])));
    den = std::max(den, static_cast<double>(std::abs(b[i])));
  }
  return num / den;
}

// How a case's inputs are described: plain f32; the backend's activation layout; or Mixed (see
// the file comment; only where mixed_applies).
enum class Feed { Plain, Native, Mixed };
const char* feed_name(Feed f) { return f == Feed::Plain ? " plain" : f == Feed::Native ? " native" : " mixed"; }

bool mixed_applies(const Entry& e) {
  return e.backend == "cudnn" && (e.op == "add" || (e.op == "linear" && e.dtype != DType::F32));
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

// Prepares `layer` on `backend` with inputs in plain or native layout and runs forward (and
// backward when training) with the given plain data.
LayerRun run(Backend& backend, const OpCase& c, Feed feed, bool training,
        const std::vector<std::vector<float>>& inputs, const std::vector<float>& dy,
        const std::vector<std::vector<float>>& params) {
  LayerRun r;
  r.layer = registry().create(*c.params, backend);
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
  if (!training) return r;
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

TEST_P(BackendParity, MatchesReferenceForwardAndBackward) {
  const Entry e = GetParam();
  std::string why;
  if (!backend_usable(e.backend, &why)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> other;
  try {
    other = make_backend(e.backend, 2, e.dtype, e.conv_algorithm);
  } catch (const UsageError& err) {
    GTEST_SKIP() << err.what();  // e.g. bf16 on a CPU without AVX512_BF16
  }
  const double tol = tolerance(e.dtype);
  const OpInfo* info = registry().op_info(e.op);
  ASSERT_NE(info, nullptr) << "op '" << e.op << "' has no OpInfo with test cases";
  const auto cases = info->cases();
  ASSERT_FALSE(cases.empty());
  auto ref = make_backend("reference", 1);
  std::mt19937 rng(17);
  std::normal_distribution<float> normal;
  double worst = 0;
  int checked = 0;
  for (const OpCase& c : cases) {
    std::vector<std::vector<float>> inputs;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      inputs.emplace_back(static_cast<size_t>(numel(c.inputs[i])));
      if (c.fill) c.fill(i, inputs.back(), rng);
      else for (float& v : inputs.back()) v = normal(rng);
      for (float& v : inputs.back()) v = round_to(e.dtype, v);
    }
    // Parameters: random, BN scale around 1 (its typical range).
    auto probe = registry().create(*c.params, *ref);
    std::vector<std::vector<float>> params;
    for (const Parameter& p : probe->parameters()) {
      params.emplace_back(static_cast<size_t>(p.value.numel()));
      const bool bn_scale = e.op == "batchnorm2d" && p.name == "weight";
      for (float& v : params.back()) v = round_to(e.dtype, (bn_scale ? 1.0f : 0.0f) + 0.5f * normal(rng));
    }
    for (bool training : {true, false}) {
      const LayerRun shape_probe = run(*ref, c, Feed::Plain, /*training=*/false, inputs, {}, params);
      std::vector<float> dy(static_cast<size_t>(shape_probe.y.numel()));
      for (float& v : dy) v = round_to(e.dtype, normal(rng));
      const LayerRun want = run(*ref, c, Feed::Plain, training, inputs, dy, params);
      for (Feed feed : {Feed::Plain, Feed::Native, Feed::Mixed}) {
        if (feed == Feed::Mixed && !mixed_applies(e)) continue;
        const LayerRun got = run(*other, c, feed, training, inputs, dy, params);
        const std::string where = c.params->str() + (training ? " train" : " eval") + feed_name(feed);
        const double ey = error(read(*other, got.y), read(*ref, want.y));
        EXPECT_LT(ey, tol) << where << " output";
        worst = std::max(worst, ey);
        if (training) {
          for (size_t i = 0; i < c.inputs.size(); ++i) {
            if (!(c.differentiable.empty() || c.differentiable[i])) continue;
            const double ex = error(read(*other, got.dx[i]), read(*ref, want.dx[i]));
            EXPECT_LT(ex, tol) << where << " d input " << i;
            worst = std::max(worst, ex);
          }
          for (size_t k = 0; k < params.size(); ++k) {
            const double ep = error(read(*other, got.layer->parameters()[k].grad), read(*ref, want.layer->parameters()[k].grad));
            EXPECT_LT(ep, tol) << where << " d " << want.layer->parameters()[k].name;
            worst = std::max(worst, ep);
          }
          // A recomputable output comes back exactly as forward wrote it (network plan contract).
          for (const LayerRun* r : {&got, &want}) {
            if (!r->layer->can_recompute_output()) continue;
            Backend& b = r == &got ? *other : *ref;
            Tensor again = b.allocate(r->y.desc());
            std::vector<const Tensor*> xs;
            for (const Tensor& t : r->x) xs.push_back(&t);
            Context ctx;
            r->layer->recompute(xs, again, ctx);
            b.synchronize();
            EXPECT_EQ(read(b, again), read(b, r->y)) << where << " recomputed output (" << b.name() << ")";
          }
          for (size_t k = 0; k < want.layer->buffers().size(); ++k) {
            const Tensor& wb = want.layer->buffers()[k].value;
            const Tensor& gb = got.layer->buffers()[k].value;
            if (wb.dtype() == DType::I64) {
              EXPECT_EQ(*gb.data_as<int64_t>(), *wb.data_as<int64_t>()) << where << " num_batches_tracked";
            } else {
              EXPECT_LT(error(read(*other, gb), read(*ref, wb)), tol / 10) << where << " " << want.layer->buffers()[k].name;
            }
          }
        }
        ++checked;
      }
    }
  }
  std::printf("[%s/%s/%s/%s] %d runs, worst relative error %.2e\n", e.op.c_str(), e.backend.c_str(),
              to_string(e.dtype).c_str(), e.conv_algorithm.c_str(), checked, worst);
}

// Every entry in f32; oneDNN also in bf16, cuDNN also in bf16 and f16 (skipped where the
// hardware lacks them).
std::vector<Entry> entries() {
  std::vector<Entry> out;
  for (const auto& [op, backend] : registry().entries()) {
    if (backend == "reference") continue;
    out.push_back({op, backend, DType::F32});
    if (backend == "onednn" && op == "conv2d") out.push_back({op, backend, DType::F32, "winograd"});
    if (backend == "onednn" || backend == "cudnn") out.push_back({op, backend, DType::BF16});
    if (backend == "cudnn") out.push_back({op, backend, DType::F16});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Registry, BackendParity, ::testing::ValuesIn(entries()), [](const auto& info) {
  std::string suffix = info.param.dtype == DType::F32 ? "" : "_" + to_string(info.param.dtype);
  if (info.param.conv_algorithm != "direct") suffix += "_" + info.param.conv_algorithm;
  return info.param.op + "_" + info.param.backend + suffix;
});

TEST(Registry, EveryOpHasAReferenceAndTestCases) {
  for (const auto& [op, backend] : registry().entries()) {
    EXPECT_TRUE(registry().has(op, "reference")) << op << " has no reference implementation";
    ASSERT_NE(registry().op_info(op), nullptr) << op;
    EXPECT_FALSE(registry().op_info(op)->cases().empty()) << op;
  }
}

TEST(Registry, UnsupportedPairIsATypedErrorNamingTheOp) {
  auto ref = make_backend("reference", 1);
  struct Unknown : OpParams {
    std::string op() const override { return "no_such_op"; }
    std::unique_ptr<OpParams> clone() const override { return std::make_unique<Unknown>(*this); }
  };
  try {
    registry().create(Unknown(), *ref);
    FAIL() << "expected GraphError";
  } catch (const GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_op"), std::string::npos);
  }
}

}  // namespace
}  // namespace cxr
