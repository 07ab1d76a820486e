// SGD (momentum, nesterov, weight decay), Adam (with a frozen stage) and AdamW, over per-stage
// param groups with layer-wise lr decay and the cosine and onecycle schedules, equal PyTorch's
// torch.optim over 5 steps with fixed gradients (tests/optimizer/torch_optim_oracle.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "engine/optimizer.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

const nlohmann::json& oracle() {
  static const nlohmann::json j = [] {
    const std::string out = run(std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR +
                                "/tests/optimizer/torch_optim_oracle.py 2>/dev/null");
    return out.empty() ? nlohmann::json() : nlohmann::json::parse(out);
  }();
  return j;
}

struct Case {
  std::string name;
  OptimizerConfig opt;
  ScheduleConfig schedule;
};

Case make(std::string name, std::string opt, double lr, double wd, double decay, double momentum = 0.9,
          bool nesterov = false, std::vector<std::string> freeze = {}, std::string sched = "constant") {
  Case c;
  c.name = std::move(name);
  c.opt.name = std::move(opt);
  c.opt.lr = lr;
  c.opt.weight_decay = wd;
  c.opt.layer_decay = decay;
  c.opt.momentum = momentum;
  c.opt.nesterov = nesterov;
  c.opt.freeze = std::move(freeze);
  c.schedule.name = std::move(sched);
  c.schedule.total_steps = 5;
  return c;
}

class OptimizerVsTorch : public ::testing::TestWithParam<Case> {};

TEST_P(OptimizerVsTorch, FiveStepsEqualTorchOptim) {
  const auto& j = oracle();
  if (j.is_null()) GTEST_SKIP() << CXRTUNE_PYTHON << " cannot import torch";
  const Case c = GetParam();
  auto backend = make_backend("reference", 1);
  const std::vector<std::pair<std::string, std::string>> names{
      {"conv1.weight", "conv1"}, {"layer1.bn.weight", "layer1"}, {"fc.weight", "fc"}};
  std::vector<Parameter> params(names.size());
  std::vector<Parameter*> ptrs;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto init = j["init"][names[i].first].get<std::vector<float>>();
    params[i].name = names[i].first;
    params[i].stage = names[i].second;
    params[i].weight_decay = names[i].first.find("bn") == std::string::npos;
    params[i].value = backend->allocate(plain_desc({static_cast<int64_t>(init.size())}));
    params[i].grad = backend->allocate(plain_desc({static_cast<int64_t>(init.size())}));
    backend->write_plain(params[i].value, init.data());
    ptrs.push_back(&params[i]);
  }
  Optimizer opt(c.opt, c.schedule, ptrs, *backend, {"conv1", "layer1", "fc"});
  const auto& expect = j[c.name];
  for (int t = 0; t < 5; ++t) {
    for (size_t i = 0; i < names.size(); ++i) {
      const auto g = j["grads"][t][names[i].first].get<std::vector<float>>();
      backend->write_plain(params[i].grad, g.data());
    }
    const auto lr = opt.step(t);
    // torch's groups are the non-frozen stages in order.
    size_t group = 0;
    for (const auto& [pname, stage] : names) {
      if (std::find(c.opt.freeze.begin(), c.opt.freeze.end(), stage) != c.opt.freeze.end()) {
        EXPECT_EQ(lr.at(stage), 0.0);
        continue;
      }
      const double want = expect["lrs"][t][group++];
      EXPECT_NEAR(lr.at(stage), want, 1e-12 + 1e-9 * want) << c.name << " step " << t << " " << stage;
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const auto want = expect["params"][names[i].first].get<std::vector<float>>();
    std::vector<float> got(want.size());
    backend->read_plain(params[i].value, got.data());
    for (size_t k = 0; k < got.size(); ++k)
      EXPECT_NEAR(got[k], want[k], 1e-6 * std::max(1.0f, std::abs(want[k]))) << c.name << " " << names[i].first << "[" << k << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Torch, OptimizerVsTorch,
    ::testing::Values(make("sgd", "sgd", 0.1, 0.01, 0.5, 0.9, true), make("sgd_plain", "sgd", 0.1, 0.0, 1.0, 0.0),
                      make("adam", "adam", 0.01, 0.01, 0.7, 0.9, false, {"conv1"}),
                      make("adamw_cosine", "adamw", 0.01, 0.05, 0.6, 0.9, false, {}, "cosine"),
                      make("adam_onecycle", "adam", 0.01, 0.0, 0.8, 0.9, false, {}, "onecycle")),
    [](const auto& info) { return info.param.name; });

TEST(Schedule, WarmupThenCosine) {
  ScheduleConfig s;
  s.name = "cosine";
  s.warmup_steps = 4;
  s.total_steps = 14;
  EXPECT_DOUBLE_EQ(lr_factor(s, 0), 0.25);
  EXPECT_DOUBLE_EQ(lr_factor(s, 3), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(s, 4), 1.0);
  EXPECT_NEAR(lr_factor(s, 9), 0.5, 1e-12);  // halfway through the 10 cosine steps
  EXPECT_NEAR(lr_factor(s, 14), 0.0, 1e-12);
}

TEST(Optimizer, LayerDecayByDistanceAndUnknownStagesRefused) {
  auto backend = make_backend("reference", 1);
  const std::vector<std::string> stages{"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};
  OptimizerConfig c;
  c.lr = 1e-3;
  c.layer_decay = 0.5;
  Optimizer opt(c, ScheduleConfig{}, {}, *backend, stages);
  const auto lr = opt.stage_lr(0);
  for (size_t i = 0; i < stages.size(); ++i)
    EXPECT_DOUBLE_EQ(lr.at(stages[i]), 1e-3 * std::pow(0.5, static_cast<double>(5 - i))) << stages[i];
  c.freeze = {"layer9"};
  EXPECT_THROW(Optimizer(c, ScheduleConfig{}, {}, *backend, stages), UsageError);
}

}  // namespace
}  // namespace cxr
