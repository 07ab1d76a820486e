// The stage names of a ResNet, in torchvision order: the groups that per-stage learning rates,
// freezing, gradient norms and weight change are reported for (metrics.jsonl `lr`, `grad_norm`,
// weight_change.json). The engine builds its networks with these names; reports/ orders what it
// reads by them. A plugin's network may add stages of its own: they sort after these.
#pragma once
#include <string>
#include <vector>

namespace cxr {

// conv1, layer1, layer2, layer3, layer4, fc.
const std::vector<std::string>& resnet_stage_names();

// Position in resnet_stage_names(); names outside it get its size (they sort last, together).
size_t stage_rank(const std::string& stage);

}  // namespace cxr
