// Builders for torchvision's ResNet-18/34/50/101 (v1.5: a bottleneck's stride sits on its 3×3
// conv). Node names equal torchvision module paths, so parameter names equal its state_dict keys
// ("layer3.4.bn2.running_var", "fc.weight"). BN+ReLU and add+ReLU are fused nodes; the fusion
// does not change parameter names or results.
// Stages (core/stages.h): conv1 (conv1 + bn1 + maxpool), layer1..layer4, fc (avgpool, fc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace cxr {

struct ResNetConfig {
  std::string arch = "resnet50";  // resnet18 | resnet34 | resnet50 | resnet101
  int64_t num_classes = 1000;
  int64_t in_channels = 3;        // 1: grayscale input (conv1 has one input channel)
};

// UsageError for an unknown arch or out-of-range num_classes / in_channels.
Graph build_resnet(const ResNetConfig& config);

std::vector<std::string> resnet_archs();

// The stage names, input side first, and layer_decay distance (fc 0 ... conv1 5).
const std::vector<std::string>& resnet_stages();

}  // namespace cxr
