// Run directories for the report tests, written the way the trainer writes them
// (docs/run-directory.md) with the shape of a real fine-tuning run: gradient norms and weight change
// grow from conv1 to fc, the loss falls with batch noise, rates decay layer-wise under a cosine
// schedule. Options plant the events the report must surface (NaN, spike, frozen stage) and
// carry canary text into the recipe and run_info; a diverging validation loss and accuracy back
// at chance are the validation events.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace cxr::test {

struct FixtureOptions {
  std::string name = "run";
  int64_t steps = 300, steps_per_epoch = 50;
  bool pretrained = true;      // pretrained: early stages tiny; fresh: flatter gradient profile
  int64_t nan_step = -1;       // layer2's gradient norm and the total are null at this step
  int64_t spike_step = -1;     // total and layer4 × 40 at this step
  bool freeze_conv1 = false;   // lr 0 and weight change 0 for conv1
  std::string recipe_text = {};// replaces the default recipe.yaml
  std::string canary = {};     // also written into run_info.json under an unknown key and "weights"
  int64_t val_images = 160;
  double layer_decay = 0.5;         // per-stage lr = lr · decay^distance (1: every stage alike)
  int64_t diverge_epoch = -1;       // from this epoch on the validation loss is 2.3e26
  int64_t chance_epoch = -1;        // from this epoch on validation accuracy is 0.5 (chance)
  bool write_info = true;
  unsigned seed = 1;
};

// Writes the run under a per-process temporary root and returns its path.
std::filesystem::path make_run(const FixtureOptions& o);
std::filesystem::path fixture_root();
std::string slurp(const std::filesystem::path& p);

}  // namespace cxr::test
