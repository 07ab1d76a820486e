// Probes (Network::set_probes): which nodes the caller reads, and which layers must be
// prepared for training so that a gradient can reach them. Plain data; the planner's passes
// read `probe` (kept, never fused away, no shared or deferred gradient) and PlanNode::trains.
#pragma once
#include <string>
#include <vector>

#include "engine/graph.h"

namespace cxr {

struct ProbePlan {
  std::vector<bool> probe;           // per node: named in set_probes
  std::vector<bool> backward;        // per node: backward_to() can reach this probe
  std::vector<bool> layer_training;  // per node: prepare its layer for training
  std::vector<std::vector<bool>> downstream;  // per probe node: the nodes that read it, transitively
};

// training: every layer trains, every probe has a backward. Eval: a probe has a backward when
// every layer downstream of it computes the same forward in both modes (same_in_training, per
// node: Layer::forward_same_in_training); those layers then train. GraphError on an unknown name.
ProbePlan plan_probes(const Graph& graph, const std::vector<std::string>& names,
                      const std::vector<bool>& same_in_training, bool training);

// The node index of probe `name`; GraphError naming `what` (the caller's method) otherwise.
size_t probe_index(const ProbePlan& plan, const Graph& graph, const std::string& name, const char* what);

}  // namespace cxr
