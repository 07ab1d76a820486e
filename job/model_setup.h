// What `train` and `eval` both build from a recipe: the backend (with plugins), the network
// with its initial weights, the loss, and the data loaders.
#pragma once
#include <memory>
#include <string>

#include "engine/layer_registry.h"
#include "engine/network.h"
#include "io/input_limits.h"
#include "io/loader.h"
#include "recipes/recipe.h"

namespace cxr {

// The network holds references to the registry and the backend: both live on the heap, so a
// JobModel can be moved (returned, stored in a CheckpointModel) without leaving them dangling.
struct JobModel {
  std::unique_ptr<LayerRegistry> registry = std::make_unique<LayerRegistry>();
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Network> network;
  std::string weights_note;  // how the weights were obtained, for the log
};

// Backend by name, every compiled layer, the recipe's and the command line's plugins.
JobModel make_model(const Recipe& recipe, const std::vector<std::string>& plugins);
// Fresh torchvision init, then model.weights (path or "torchvision") when given.
void initialise_weights(JobModel& model, const Recipe& recipe);

std::unique_ptr<OpParams> make_loss(const Recipe& recipe, const Dataset& train);

struct JobData {
  std::unique_ptr<Loader> train, val;
};
// rank/ranks: this process's shard of every batch in a data-parallel run (io/loader.h).
JobData make_data(const Recipe& recipe, int rank = 0, int ranks = 1);
LoaderConfig loader_config(const Recipe& recipe, bool training);
// How much the recipe lets one file make cxrtune allocate (data.max_image_pixels,
// model.max_tensor_mib): what every reader of the run's images and weights is given.
InputLimits input_limits(const Recipe& recipe);

}  // namespace cxr
