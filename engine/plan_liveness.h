// The network planner's first pass: which outputs are read when, on the unfused graph.
//
// The planner runs in passes over plain data, each tested on its own (tests/engine/plan_*):
//   plan_liveness (this) → plan_fusion → plan_memory → the network executes the result.
// PlanNode is what the network learns from each prepared layer; no pass sees a Layer.
#pragma once
#include <cstdint>
#include <vector>

namespace cxr {

// One graph node as the passes see it (facts about its prepared layer, no choices).
struct PlanNode {
  static constexpr int kInput = -1;  // an input index meaning "the network input"
  std::vector<int> inputs;           // earlier node indices, or kInput
  int64_t bytes = 0;                 // of its output
  bool trains = false;               // prepared for training: it has a backward
  bool requires_grad = false;        // the gradient of its output is wanted
  bool probe = false;                // its output and gradient are read by the caller (Network::set_probes)
  bool backward_reads_output = true;       // Layer::backward_reads_output
  std::vector<bool> backward_reads_input;  // Layer::backward_reads_input, per input
  bool can_recompute = false;              // Layer::can_recompute_output
  bool can_replay = false;                 // Layer::can_replay_forward
  bool input_grads_equal = false;          // Layer::backward_input_grads_equal
  bool sums_dy = false;                    // Layer::backward_sums_dy
};

struct Liveness {
  std::vector<std::vector<int>> consumers;  // per node, in forward order
  std::vector<int> last_reader;             // per node: its last consumer in forward order, or -1
  std::vector<bool> has_backward;           // per node: trains and its output gradient is wanted
  std::vector<bool> has_step;               // per node: its backward runs (something downstream wants it)
  // Per node: some backward reads this output (its own as y, or a consumer's as x), so it must
  // still be there (or recomputed) when that backward runs. The logits and probes count as read.
  std::vector<bool> read_in_backward;
  // Per node, among the consumers whose backward runs and reads this output as an input: the
  // first in backward order (the largest index) and the last (the smallest); -1 when none.
  std::vector<int> first_backward_reader, last_backward_reader;
};

// GraphError when a node reads itself or a later node.
Liveness plan_liveness(const std::vector<PlanNode>& nodes);

}  // namespace cxr
