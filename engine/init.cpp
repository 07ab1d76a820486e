#include "engine/init.h"

#include <cmath>
#include <random>
#include <vector>

namespace cxr {
namespace {

void init_node(Network& net, const NodeSpec& node, std::mt19937_64& rng) {
  Layer* layer = net.layer(node.name);
  if (!layer) return;
  const std::string op = node.params->op();
  Backend& backend = net.backend();
  int64_t linear_fan_in = 1;
  for (Parameter& p : layer->parameters()) {
    std::vector<float> v(static_cast<size_t>(p.value.numel()));
    const bool is_weight = p.name.size() >= 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
    if (op == "conv2d" && is_weight) {
      const auto& s = p.value.shape();
      const double std = std::sqrt(2.0 / static_cast<double>(s[0] * s[2] * s[3]));
      std::normal_distribution<double> dist(0.0, std);
      for (float& x : v) x = static_cast<float>(dist(rng));
    } else if (op == "linear") {
      if (is_weight) linear_fan_in = p.value.shape()[1];
      const double bound = 1.0 / std::sqrt(static_cast<double>(linear_fan_in));
      std::uniform_real_distribution<double> dist(-bound, bound);
      for (float& x : v) x = static_cast<float>(dist(rng));
    } else if (op == "batchnorm2d") {
      std::fill(v.begin(), v.end(), is_weight ? 1.0f : 0.0f);
    } else {
      continue;  // plugin ops keep what their constructor set
    }
    backend.write_plain(p.value, v.data());
  }
  for (Buffer& b : layer->buffers()) {
    if (b.value.dtype() != DType::F32) {
      std::fill_n(static_cast<char*>(b.value.data()), b.value.bytes(), 0);
      continue;
    }
    const bool is_var = b.name.find("running_var") != std::string::npos;
    std::vector<float> v(static_cast<size_t>(b.value.numel()), is_var ? 1.0f : 0.0f);
    backend.write_plain(b.value, v.data());
  }
}

}  // namespace

void init_torchvision(Network& net, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const NodeSpec& node : net.graph().nodes) init_node(net, node, rng);
}

void init_torchvision_module(Network& net, const std::string& module, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const NodeSpec& node : net.graph().nodes)
    if (node.name == module || node.name.rfind(module + ".", 0) == 0) init_node(net, node, rng);
}

}  // namespace cxr
