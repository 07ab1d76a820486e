// Probes on a checkpointed training network (issue #21): a probe inside a checkpointed block
// (a BN+ReLU output that the plan would otherwise free and recompute), at a block's output and
// at a stage's output report the same bits as without checkpointing — the training forward's
// outputs, backward_to's gradients at the probes (twice in a row: a second backward_to replays
// the blocks again) and, after them, backward()'s parameter gradients.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/init.h"
#include "engine/resnet.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

const std::vector<std::string> kProbes{"layer2.0.bn1", "layer3.1.add", "layer4.1.add"};

struct Observed {
  std::vector<std::vector<float>> outputs, probe_grads, param_grads;
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Observed observe(const std::string& backend_name, const std::vector<std::string>& stages) {
  LayerRegistry registry;
  register_all_layers(registry);
  std::unique_ptr<Backend> backend = make_backend(backend_name, 2);
  ResNetConfig rc;
  rc.arch = "resnet18";
  rc.num_classes = 3;
  Network net(build_resnet(rc), registry, *backend);
  init_torchvision(net, 5);
  net.set_probes(kProbes);
  net.set_checkpointed_stages(stages);
  const Shape shape{2, 3, 32, 32};
  net.prepare(shape, true);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> image(static_cast<size_t>(2 * 3 * 32 * 32));
  for (float& x : image) x = normal(rng);
  backend->write_plain(net.input(), image.data());
  Context ctx;
  ctx.training = true;
  Observed o;
  std::vector<float> logits(6);
  backend->read_plain(net.forward(ctx), logits.data());
  o.outputs.push_back(logits);
  for (const std::string& p : kProbes) o.outputs.push_back(net.output_plain(p));
  const std::vector<float> onehot{1, 0, 0, 0, 0, 1};  // sum of logit 0 of image 0 and logit 2 of image 1
  Tensor dlogits = backend->allocate(plain_desc({2, 3}));
  backend->write_plain(dlogits, onehot.data());
  for (int round = 0; round < 2; ++round)
    for (const std::string& p : kProbes) {
      net.backward_to(p, dlogits, ctx);
      o.probe_grads.push_back(net.input_gradient_plain(p));
    }
  net.backward(dlogits, ctx);
  for (Parameter* p : net.parameters()) {
    std::vector<float> g(static_cast<size_t>(p->grad.numel()));
    backend->read_plain(p->grad, g.data());
    o.param_grads.push_back(std::move(g));
  }
  for (const std::string& p : kProbes) o.outputs.push_back(net.output_plain(p));  // intact after backward
  return o;
}

void expect_same_probes(const std::string& backend) {
  std::string why;
  if (!backend_usable(backend, &why)) GTEST_SKIP() << backend << " is not usable here: " << why;
  const Observed plain = observe(backend, {});
  const Observed checkpointed = observe(backend, {"conv1", "layer1", "layer2", "layer3", "layer4"});
  ASSERT_EQ(plain.outputs.size(), checkpointed.outputs.size());
  for (size_t k = 0; k < plain.outputs.size(); ++k)
    EXPECT_TRUE(same_bits(plain.outputs[k], checkpointed.outputs[k])) << "output " << k << " (0: logits, then probes)";
  ASSERT_EQ(plain.probe_grads.size(), checkpointed.probe_grads.size());
  for (size_t k = 0; k < plain.probe_grads.size(); ++k)
    EXPECT_TRUE(same_bits(plain.probe_grads[k], checkpointed.probe_grads[k]))
        << "backward_to gradient at " << kProbes[k % kProbes.size()] << ", round " << k / kProbes.size();
  ASSERT_EQ(plain.param_grads.size(), checkpointed.param_grads.size());
  for (size_t k = 0; k < plain.param_grads.size(); ++k)
    EXPECT_TRUE(same_bits(plain.param_grads[k], checkpointed.param_grads[k])) << "parameter gradient " << k;
}

TEST(CheckpointedProbes, OnednnReportsTheSameBits) { expect_same_probes("onednn"); }
TEST(CheckpointedProbes, ReferenceReportsTheSameBits) { expect_same_probes("reference"); }

}  // namespace
}  // namespace cxr
