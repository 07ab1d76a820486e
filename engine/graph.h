// Graph: a network described as ordered nodes, before any backend is chosen. Builders
// (resnet.h) produce it; Network instantiates it on one backend.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/layer.h"

namespace cxr {

struct NodeSpec {
  static constexpr int kInput = -1;  // index meaning "the network input"

  std::string name;   // torchvision module path ("layer1.0.conv1"); parameter keys are
                      // name + "." + local name. Unique; may be empty for parameterless nodes.
  std::string stage;  // "conv1" | "layer1" | ... | "fc"
  std::shared_ptr<const OpParams> params;
  std::vector<int> inputs;  // earlier node indices, or kInput
};

struct Graph {
  std::string arch;                 // "resnet50", ...
  std::vector<NodeSpec> nodes;      // topological order = torchvision module order
  std::vector<std::string> stages;  // stage names, input side first
  int64_t in_channels = 3;
  int64_t num_classes = 0;
};

}  // namespace cxr
