// `weights: torchvision` in a recipe: finds the user's own torchvision ImageNet file for an
// architecture under $TORCH_HOME/hub/checkpoints or ~/.cache/torch/hub/checkpoints, checks the
// SHA-256 prefix its name carries, and never downloads. When none is found, the UsageError
// names the files and where to put them.
#pragma once
#include <string>
#include <vector>

namespace cxr {

// Known file names for an arch (V1 first, then V2 where torchvision has one).
std::vector<std::string> torchvision_file_names(const std::string& arch);

// The path of a verified file; UsageError naming the candidates and folders otherwise.
std::string find_torchvision_weights(const std::string& arch);

}  // namespace cxr
