// Whole network against PyTorch autograd (Debian's torch 1.13, float64 on the same weights):
// torchvision resnet18/resnet50 with random weights, train mode, 64×64, batch 4. Logits within 1e-4 relative, loss and every
// per-stage gradient norm within 1e-3 relative (or 2x PyTorch float32's own error, at most 3e-3), BN running stats after 3 train-mode forward
// passes equal to PyTorch's within float32 rounding (3e-4, see below). Skipped, saying why, when torch cannot be imported.
#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/grad_stats.h"
#include "engine/resnet.h"
#include "engine/train_step.h"
#include "plugins/backends.h"
#include "tests/support/float_file.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

using cxr::test::read_floats;

bool torch_available(std::string* why) {
  const std::string cmd = std::string(CXRTUNE_PYTHON) + " -c 'import torch, torchvision' 2>/dev/null";
  if (std::system(cmd.c_str()) == 0) return true;
  *why = std::string(CXRTUNE_PYTHON) + " cannot import torch and torchvision (apt-get install "
         "python3-torch python3-torchvision)";
  return false;
}

struct Case {
  std::string arch, backend;
  DType dtype = DType::F32;  // the backend's compute precision (train.precision)
  std::string conv_algorithm = "direct";
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.arch << "/" << c.backend << "/" << to_string(c.dtype) << "/" << c.conv_algorithm;
}

// Allowed relative errors against float64 autograd. f32: rounding only. bf16 and f16: these
// floors, or twice what PyTorch's own bf16 autocast loses on the same case, whichever is larger
// (random-init ResNet-50 at batch 4, 64×64 is ill-conditioned: PyTorch's bf16 logits are ~28 %
// off there, ResNet-18's ~3 %).
struct Tolerances {
  double logits, loss, grad_norm, running;
};
Tolerances tolerances(DType dtype) {
  if (dtype == DType::BF16) return {5e-2, 1e-2, 5e-2, 2e-2};
  if (dtype == DType::F16) return {1e-2, 3e-3, 1e-2, 5e-3};
  return {1e-4, 1e-3, 1e-3, 3e-4};
}

// What PyTorch's own run of the case ("bf16_autocast" or "f32") loses against float64
// (torch_resnet_oracle.py).
Tolerances torch_errors(const nlohmann::json& expect, const char* run_name, const std::vector<float>& running_f64) {
  const auto& b = expect[run_name];
  Tolerances e{};
  double num = 0, den = 0;
  const auto want = expect["logits"].get<std::vector<double>>();
  const auto got = b["logits"].get<std::vector<double>>();
  for (size_t i = 0; i < want.size(); ++i) num = std::max(num, std::abs(got[i] - want[i])), den = std::max(den, std::abs(want[i]));
  e.logits = num / den;
  for (const auto& [stage, w] : expect["grad_norm"].items())
    e.grad_norm = std::max(e.grad_norm, std::abs(b["grad_norm"][stage].get<double>() - w.get<double>()) / w.get<double>());
  const auto run = b["running"].get<std::vector<double>>();
  for (size_t i = 0; i < run.size(); ++i)
    e.running = std::max(e.running, std::abs(run[i] - running_f64[i]) / std::max(1.0, std::abs(static_cast<double>(running_f64[i]))));
  return e;
}

class ResnetVsTorch : public ::testing::TestWithParam<Case> {};

// Relative error of a vector: max |a - b| / max |b|.
double rel_error(const std::vector<float>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return num / den;
}

TEST_P(ResnetVsTorch, TrainStepMatchesAutograd) {
  const Case c = GetParam();
  std::string why;
  if (!torch_available(&why)) GTEST_SKIP() << why;
  if (!backend_usable(c.backend, &why)) GTEST_SKIP() << why;
  const int64_t batch = 4, size = 64, classes = 5;
  const fs::path dir = fs::temp_directory_path() / ("cxr_oracle_" + c.arch + "_" + std::to_string(getpid()));
  const std::string cmd = std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR +
                          "/tests/oracle/torch_resnet_oracle.py " + c.arch + " 4 64 5 7 " + dir.string() +
                          (c.dtype == DType::F32 ? "" : " --tame");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  LayerRegistry registry;
  register_all_layers(registry);
  std::unique_ptr<Backend> backend;
  try {
    backend = make_backend(c.backend, 2, c.dtype, c.conv_algorithm);
  } catch (const UsageError& e) {
    GTEST_SKIP() << e.what();  // bf16 on a CPU without AVX512_BF16
  }
  Tolerances tol = tolerances(c.dtype);
  ResNetConfig rc;
  rc.arch = c.arch;
  rc.num_classes = classes;
  Network net(build_resnet(rc), registry, *backend);

  // Load torch's state by name; every key must be known to cxrtune and vice versa.
  const auto index = nlohmann::json::parse(std::ifstream(dir / "state.json"));
  const std::vector<float> state = read_floats(dir / "state.bin");
  std::map<std::string, StateEntry> entries;
  for (const StateEntry& e : net.state()) entries[e.name] = e;
  ASSERT_EQ(entries.size(), index.size());
  for (const auto& item : index) {
    const std::string name = item["name"];
    ASSERT_TRUE(entries.count(name)) << "cxrtune has no " << name;
    Tensor& t = *entries[name].value;
    ASSERT_EQ(t.shape(), item["shape"].get<Shape>()) << name;
    const float* src = state.data() + item["offset"].get<size_t>() / sizeof(float);
    if (t.dtype() == DType::I64) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data_as<int64_t>()[i] = static_cast<int64_t>(src[i]);
    } else {
      backend->write_plain(t, src);
    }
  }

  ops::SoftmaxCrossEntropyParams loss;
  TrainStep step(net, registry, loss);
  step.prepare({batch, 3, size, size}, {batch}, true);
  const std::vector<float> input = read_floats(dir / "input.bin");
  const std::vector<float> labels = read_floats(dir / "labels.bin");
  backend->write_plain(step.input(), input.data());
  backend->write_plain(step.targets(), labels.data());
  Context ctx;
  const double loss_value = step.run(ctx);
  std::vector<float> logits(static_cast<size_t>(batch * classes));
  backend->read_plain(step.logits(), logits.data());
  const GradNorms norms = grad_norms(*backend, net.parameters(), net.graph().stages);

  const auto expect = nlohmann::json::parse(std::ifstream(dir / "expect.json"));
  const std::vector<float> running = read_floats(dir / "running.bin");
  if (c.conv_algorithm == "winograd") {
    // Winograd's transforms round more than direct convolution (measured: ResNet-50 stage
    // gradient norms 1.1e-3 off float64, PyTorch's float32 3.4e-4, direct 4.2e-4), so it is an
    // opt-in class of its own between f32 and bf16: gradient norms within 3e-3 and within ten
    // times PyTorch's own float32 error, logits and BN statistics held to the f32 bounds.
    const Tolerances torch = torch_errors(expect, "f32", running);
    tol.grad_norm = std::min(3e-3, std::max(tol.grad_norm, 10 * torch.grad_norm));
    std::printf("[%s] PyTorch float32 on this case: logits %.2e, stage grad norms %.2e, BN running %.2e\n",
                c.arch.c_str(), torch.logits, torch.grad_norm, torch.running);
  }
  if (c.dtype == DType::F32 && c.conv_algorithm != "winograd") {
    // f32 rounding on this ill-conditioned case depends on the CPU's kernels: PyTorch's own
    // float32 stage gradient norms are 3.4e-4 off float64 on an AVX-512 Xeon but 1.05e-3 on an
    // AVX2 Zen 3 (conv1's gradient norm is ~1700 after 50 layers of random init). So the bound is
    // 1e-3 or twice what PyTorch's float32 loses on the same machine, never more than 3e-3: a
    // real defect (a missing term, a wrong layout) is off by far more than that.
    const Tolerances torch = torch_errors(expect, "f32", running);
    tol.grad_norm = std::min(3e-3, std::max(tol.grad_norm, 2 * torch.grad_norm));
    std::printf("[%s] PyTorch float32 on this case: logits %.2e, stage grad norms %.2e, BN running %.2e\n",
                c.arch.c_str(), torch.logits, torch.grad_norm, torch.running);
  }
  if (c.dtype != DType::F32) {
    const Tolerances torch = torch_errors(expect, "bf16_autocast", running);
    tol.logits = std::max(tol.logits, 2 * torch.logits);
    tol.grad_norm = std::max(tol.grad_norm, 2 * torch.grad_norm);
    tol.loss = std::max(tol.loss, 2 * torch.logits);
    tol.running = std::max(tol.running, 2 * torch.running);
    std::printf("[%s] PyTorch bf16 autocast on this case: logits %.2e, stage grad norms %.2e, BN running %.2e\n",
                c.arch.c_str(), torch.logits, torch.grad_norm, torch.running);
  }
  const double logit_err = rel_error(logits, expect["logits"].get<std::vector<double>>());
  EXPECT_LT(logit_err, tol.logits) << "logits";
  const double want_loss = expect["loss"];
  EXPECT_LT(std::abs(loss_value - want_loss) / want_loss, tol.loss) << loss_value << " vs " << want_loss;
  double worst_stage = 0;
  for (const auto& [stage, want] : expect["grad_norm"].items()) {
    const double got = norms.stage.at(stage);
    const double err = std::abs(got - want.get<double>()) / want.get<double>();
    worst_stage = std::max(worst_stage, err);
    EXPECT_LT(err, tol.grad_norm) << stage << ": " << got << " vs " << want;
  }
  const double want_total = expect["grad_norm_total"];
  EXPECT_LT(std::abs(norms.total - want_total) / want_total, tol.grad_norm);
  const std::string dtype = to_string(c.dtype);
  std::printf("[%s/%s/%s] logits rel err %.2e, loss %.6f vs %.6f, total grad norm %.6f vs %.6f, "
              "worst stage grad norm rel err %.2e\n",
              c.arch.c_str(), c.backend.c_str(), dtype.c_str(), logit_err, loss_value, want_loss, norms.total,
              want_total, worst_stage);

  // Two more train-mode forward passes, then BN running statistics.
  net.forward(ctx);
  net.forward(ctx);
  double worst = 0;
  for (const auto& item : expect["running"]) {
    Tensor& t = *entries[item["name"].get<std::string>()].value;
    std::vector<float> got(static_cast<size_t>(t.numel()));
    backend->read_plain(t, got.data());
    const float* want = running.data() + item["offset"].get<size_t>() / sizeof(float);
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(got[i] - want[i]) / std::max(1.0f, std::abs(want[i]))));
  }
  // 3e-4: the float32 floor of ResNet-50's deepest BN layers after three passes. PyTorch's own
  // float32 run of this case is 9.7e-5 off the float64 truth; ResNet-18 stays near 1e-6.
  EXPECT_LT(worst, tol.running) << "BN running statistics after 3 passes";
  std::printf("[%s/%s/%s] BN running stats max rel err %.2e\n", c.arch.c_str(), c.backend.c_str(), dtype.c_str(), worst);
  fs::remove_all(dir);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const std::string& backend : compiled_backends())
    for (const char* arch : {"resnet18", "resnet50"}) {
      out.push_back({arch, backend, DType::F32});
      if (backend == "onednn") out.push_back({arch, backend, DType::F32, "winograd"});
      if (backend != "reference") out.push_back({arch, backend, DType::BF16});
      if (backend == "cudnn") out.push_back({arch, backend, DType::F16});
    }
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, ResnetVsTorch, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string suffix = info.param.dtype == DType::F32 ? "" : "_" + to_string(info.param.dtype);
  if (info.param.conv_algorithm != "direct") suffix += "_" + info.param.conv_algorithm;
  return info.param.arch + "_" + info.param.backend + suffix;
});

}  // namespace
}  // namespace cxr
