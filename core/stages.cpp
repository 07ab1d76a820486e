#include "core/stages.h"

#include <algorithm>

namespace cxr {

const std::vector<std::string>& resnet_stage_names() {
  static const std::vector<std::string> stages{"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};
  return stages;
}

size_t stage_rank(const std::string& stage) {
  const auto& names = resnet_stage_names();
  return static_cast<size_t>(std::find(names.begin(), names.end(), stage) - names.begin());
}

}  // namespace cxr
