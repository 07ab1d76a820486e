// Masked BCE-with-logits (a target < 0 is an ignored label, io/dataset.h kIgnoredTarget) on the
// reference and oneDNN backends against PyTorch: BCEWithLogitsLoss(reduction='none',
// pos_weight) with the masked entries removed, summed and divided by their count, loss and
// gradient by autograd in float64. Skipped with a message when Debian's python has no torch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/errors.h"
#include "plugins/backends.h"
#include "engine/ops/bce_with_logits.h"
#include "plugins/reference/kernels.h"
#if __has_include(<cuda_bf16.h>)
#include "plugins/cudnn/kernel_math.h"
#define CXR_HOST_KERNEL_MATH 1
#endif

namespace cxr {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kN = 6, kK = 5;

struct Data {
  std::vector<float> z, t, pw;
};

std::string list(const std::vector<float>& v) {
  std::ostringstream s;
  s.precision(9);
  s << "[";
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str() + "]";
}

// PyTorch's loss and d loss / d z for each case, the unmasked entries only (masked entries:
// gradient 0), in one interpreter run (importing torch is most of the time). Empty when
// Debian's python cannot import torch.
std::vector<std::vector<double>> torch_masked_bce(const std::vector<Data>& cases) {
  const fs::path dir = fs::temp_directory_path() / ("cxr_masked_bce_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream py(dir / "oracle.py");
  py << "import torch\n"
        "def case(z, t, pw):\n"
        "  z = torch.tensor(z, dtype=torch.float64).reshape(" << kN << "," << kK << ").requires_grad_()\n"
        "  t = torch.tensor(t, dtype=torch.float64).reshape(" << kN << "," << kK << ")\n"
        "  pw = torch.tensor(pw, dtype=torch.float64) if pw else None\n"
        "  keep = t >= 0\n"
        "  terms = torch.nn.BCEWithLogitsLoss(reduction='none', pos_weight=pw)(z, t.clamp(min=0))\n"
        "  loss = terms[keep].sum() / keep.sum()\n"
        "  loss.backward()\n"
        "  print(repr(loss.item()), *[repr(g) for g in z.grad.flatten().tolist()])\n";
  for (const Data& d : cases) py << "case(" << list(d.z) << ", " << list(d.t) << ", " << list(d.pw) << ")\n";
  py.close();
  const std::string cmd = std::string(CXRTUNE_PYTHON) + " " + (dir / "oracle.py").string() + " > " +
                          (dir / "out.txt").string() + " 2>/dev/null";
  std::vector<std::vector<double>> out;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream in(dir / "out.txt");
    for (std::string line; std::getline(in, line);) {
      std::istringstream s(line);
      out.emplace_back();
      for (double v; s >> v;) out.back().push_back(v);
    }
  }
  fs::remove_all(dir);
  return out;
}

struct Result {
  float loss = 0;
  std::vector<float> grad;
};

Result run_bce(const std::string& backend_name, const std::vector<float>& z, const std::vector<float>& t,
               const std::vector<float>& pw, float dloss) {
  LayerRegistry reg;
  register_all_layers(reg);
  auto backend = make_backend(backend_name, 1);
  ops::BceWithLogitsParams p;
  p.pos_weight = pw;
  auto layer = reg.create(p, *backend);
  const Shape shape{kN, kK};
  PrepareInfo info;
  info.training = true;
  info.needs_input_grad = {true, false};
  const std::vector<TensorDesc> descs{plain_desc(shape), plain_desc(shape)};
  const TensorDesc out = layer->prepare(descs, info);
  Tensor x0 = backend->allocate(descs[0]), x1 = backend->allocate(descs[1]), y = backend->allocate(out);
  Tensor dy = backend->allocate(out), dx0 = backend->allocate(descs[0]);
  backend->write_plain(x0, z.data());
  backend->write_plain(x1, t.data());
  backend->write_plain(dy, &dloss);
  Context ctx;
  ctx.training = true;
  const std::vector<const Tensor*> xs{&x0, &x1};
  layer->forward(xs, y, ctx);
  const std::vector<Tensor*> dxs{&dx0, nullptr};
  layer->backward(xs, y, dy, dxs, ctx);
  backend->synchronize();
  Result r;
  backend->read_plain(y, &r.loss);
  r.grad.resize(static_cast<size_t>(kN * kK));
  backend->read_plain(dx0, r.grad.data());
  return r;
}

// Logits normal(0, 3); targets 0/1 with about a third masked (−1), one row fully masked, and
// one label never masked, so both the count and the per-term skip are exercised.
Data make_data(uint32_t seed, std::vector<float> pos_weight) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pick(0, 2);
  Data d;
  d.pw = std::move(pos_weight);
  for (int64_t i = 0; i < kN * kK; ++i) {
    d.z.push_back(3.0f * normal(rng));
    const int v = pick(rng);
    d.t.push_back(v == 2 && i % kK != 0 ? -1.0f : static_cast<float>(v & 1));
  }
  for (int64_t c = 0; c < kK; ++c) d.t[static_cast<size_t>(2 * kK + c)] = -1.0f;
  return d;
}

class MaskedBce : public ::testing::TestWithParam<std::string> {};

TEST_P(MaskedBce, EqualsPytorchWithTheMaskedTermsRemoved) {
  std::string why;
  if (!backend_usable(GetParam(), &why)) GTEST_SKIP() << why;
  static const std::vector<Data> cases{make_data(3, {}), make_data(4, {1.0f, 3.0f, 0.5f, 2.0f, 1.5f})};
  static const std::vector<std::vector<double>> oracle = torch_masked_bce(cases);
  if (oracle.empty()) GTEST_SKIP() << CXRTUNE_PYTHON << " cannot import torch (apt-get install python3-torch)";
  ASSERT_EQ(oracle.size(), cases.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    const Data& d = cases[c];
    const std::vector<double>& want = oracle[c];
    ASSERT_EQ(want.size(), static_cast<size_t>(1 + kN * kK));
    const float dloss = 0.75f;
    const Result got = run_bce(GetParam(), d.z, d.t, d.pw, dloss);
    EXPECT_NEAR(got.loss, want[0], 1e-6 * std::max(1.0, std::abs(want[0]))) << "case " << c;
    for (int64_t i = 0; i < kN * kK; ++i) {
      EXPECT_NEAR(got.grad[static_cast<size_t>(i)], dloss * want[static_cast<size_t>(1 + i)], 1e-7) << "element " << i;
      if (d.t[static_cast<size_t>(i)] < 0) {
        EXPECT_EQ(got.grad[static_cast<size_t>(i)], 0.0f) << "masked element " << i;
      }
    }
  }
}

// Every term masked: loss 0 and zero gradients, not NaN from 0/0.
TEST_P(MaskedBce, AllMaskedGivesZeroNotNan) {
  std::string why;
  if (!backend_usable(GetParam(), &why)) GTEST_SKIP() << why;
  const std::vector<float> z(static_cast<size_t>(kN * kK), 1.5f), t(z.size(), -1.0f);
  const Result got = run_bce(GetParam(), z, t, {}, 1.0f);
  EXPECT_EQ(got.loss, 0.0f);
  for (float g : got.grad) EXPECT_EQ(g, 0.0f);
}

// Without masks the loss is still reduction='mean' over N·K (the unmasked path is unchanged).
TEST_P(MaskedBce, UnmaskedIsTheMeanOverAllTerms) {
  std::string why;
  if (!backend_usable(GetParam(), &why)) GTEST_SKIP() << why;
  const std::vector<float> z{2.0f, -1.0f, 0.5f, 0.0f, -3.0f}, t{1.0f, 0.0f, 1.0f, 0.0f, 1.0f};
  std::vector<float> zz, tt;
  for (int64_t i = 0; i < kN; ++i) zz.insert(zz.end(), z.begin(), z.end()), tt.insert(tt.end(), t.begin(), t.end());
  double want = 0;
  for (size_t i = 0; i < z.size(); ++i) want += std::log1p(std::exp(-std::abs(z[i]))) + std::max(-z[i], 0.0f) + (1 - t[i]) * z[i];
  EXPECT_NEAR(run_bce(GetParam(), zz, tt, {}, 1.0f).loss, want / 5.0, 1e-6);
}

#ifdef CXR_HOST_KERNEL_MATH
// The cuDNN kernel's per-term arithmetic (kernel_math.h, run here on the host): masked terms are
// 0 and do not count; the unmasked sum over their count is the reference kernel's loss, and the
// per-term gradients over that count are its gradients.
TEST(MaskedBceKernelMath, CudnnTermsMatchTheReferenceKernel) {
  const Data d = make_data(5, {1.0f, 3.0f, 0.5f, 2.0f, 1.5f});
  std::vector<double> z(d.z.begin(), d.z.end()), t(d.t.begin(), d.t.end()), pw(d.pw.begin(), d.pw.end()), dz(z.size());
  const double want = ref::bce_with_logits(z.data(), t.data(), pw.data(), kN, kK, dz.data());
  double total = 0, used = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    total += gpu::bce_term(z[i], t[i], pw[i % kK]);
    used += gpu::bce_used(t[i]) ? 1 : 0;
    if (t[i] < 0) {
      EXPECT_EQ(gpu::bce_grad(z[i], t[i], pw[i % kK]), 0.0);
    }
  }
  EXPECT_LT(used, static_cast<double>(z.size()));
  EXPECT_NEAR(total / used, want, 1e-12);
  for (size_t i = 0; i < z.size(); ++i) EXPECT_NEAR(gpu::bce_grad(z[i], t[i], pw[i % kK]) / used, dz[i], 1e-15);
}
#endif

INSTANTIATE_TEST_SUITE_P(Backends, MaskedBce, ::testing::Values("reference", "onednn", "cudnn"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cxr
