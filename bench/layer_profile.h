// `cxrtune bench --profile`: where a step's time goes, layer by layer. Each node's forward and
// backward seconds (from StepProfile) next to the arithmetic it does, so the table shows how
// close each convolution runs to the machine's limit and what the rest of the step costs.
#pragma once
#include <string>
#include <vector>

#include "engine/network.h"

namespace cxr {

struct LayerProfileRow {
  std::string node, op;
  double forward_ms = 0, backward_ms = 0;  // per step
  double forward_gflop = 0, backward_gflop = 0;
};

struct LayerProfile {
  std::vector<LayerProfileRow> rows;  // graph order
  double step_ms = 0;                 // mean measured step
  double gradient_sums_ms = 0;        // per step
};

// FLOPs are counted for convolutions and linear layers (2 per multiply-add); backward counts the
// data gradient only where the network computes it (not for the first convolution).
LayerProfile make_layer_profile(const Network& net, const StepProfile& profile, double step_s);

// FLOPs of one forward pass over the network's prepared batch (2 per multiply-add of its
// convolutions and linear layers; the rest of the layers is not counted), the figure the bench
// divides by the machine's GEMM rate. The network must be prepared.
double forward_flops(const Network& net);

// A Markdown table: every layer, then the totals by op and what is outside the layers.
std::string format_layer_profile(const LayerProfile& p, const std::string& title);

}  // namespace cxr
