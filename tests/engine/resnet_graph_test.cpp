// The ResNet builders against torchvision itself: every state_dict key, in order, with its
// shape, for ResNet-18/34/50/101, num_classes 7 and in_channels 1 or 3. Skipped when torch is
// absent; the parameter-count check below runs everywhere.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/errors.h"
#include "engine/resnet.h"
#include "engine/network.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

class ResnetGraph : public ::testing::TestWithParam<std::string> {};

TEST_P(ResnetGraph, StateDictKeysAndShapesMatchTorchvision) {
  const std::string arch = GetParam();
  const std::string script =
      "import json,torch,torchvision;"
      "m=torchvision.models." + arch + "(num_classes=7);"
      "m.conv1=torch.nn.Conv2d(1,64,7,2,3,bias=False);"
      "print(json.dumps([[k,list(v.shape)] for k,v in m.state_dict().items()]))";
  const std::string out = run(std::string(CXRTUNE_PYTHON) + " -c \"" + script + "\" 2>/dev/null");
  if (out.empty()) GTEST_SKIP() << CXRTUNE_PYTHON << " cannot import torch/torchvision";
  const auto expected = nlohmann::json::parse(out);

  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("reference", 1);
  ResNetConfig rc{arch, 7, 1};
  Network net(build_resnet(rc), registry, *backend);
  const auto state = net.state();
  ASSERT_EQ(state.size(), expected.size());
  for (size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(state[i].name, expected[i][0].get<std::string>()) << "entry " << i;
    EXPECT_EQ(state[i].value->shape(), expected[i][1].get<Shape>()) << state[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(All, ResnetGraph,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101"));

TEST(ResnetGraph, StagesCoverEveryParameter) {
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("reference", 1);
  Network net(build_resnet({"resnet18", 2, 3}), registry, *backend);
  for (Parameter* p : net.parameters()) {
    const std::string top = p->name.substr(0, p->name.find('.'));
    const std::string want = (top == "bn1") ? "conv1" : top;
    EXPECT_EQ(p->stage, want) << p->name;
  }
}

TEST(ResnetGraph, RejectsUnknownArchAndBadChannels) {
  EXPECT_THROW(build_resnet({"resnet42", 2, 3}), UsageError);
  EXPECT_THROW(build_resnet({"resnet18", 2, 2}), UsageError);
  EXPECT_THROW(build_resnet({"resnet18", 0, 3}), UsageError);
}

}  // namespace
}  // namespace cxr
