// Relative weight change per stage (docs/run-directory.md, weight_change.json):
// ‖W_final − W_init‖₂ / ‖W_init‖₂ over the stage's parameters (weights, biases, BN scale and
// shift; not running statistics). A frozen stage is exactly 0. The initial weights are copied
// to host memory once (≈ 100 MB for ResNet-50).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/network.h"

namespace cxr {

class WeightChange {
 public:
  // Snapshots the current parameters as W_init.
  explicit WeightChange(Network& net);
  // Per-stage relative change of the current parameters against the snapshot.
  std::map<std::string, double> relative_change(Network& net) const;
  // The snapshot by parameter name (for resume: W_init is saved with the checkpoint).
  const std::map<std::string, std::vector<float>>& initial() const { return initial_; }
  void set_initial(std::map<std::string, std::vector<float>> initial) { initial_ = std::move(initial); }

 private:
  std::map<std::string, std::vector<float>> initial_;
};

}  // namespace cxr
