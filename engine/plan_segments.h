// Part of the planner's third pass (plan_memory.h): activation checkpointing's choice of what
// each checkpointed segment drops after forward and replays before its backward, and when the
// replayed outputs are free again (the rules are in plan_memory.h, "Activation checkpointing").
#pragma once
#include <string>
#include <vector>

#include "engine/plan_fusion.h"
#include "engine/plan_liveness.h"

namespace cxr {

struct SegmentPlan {
  // Per storage node: kept whatever the segments (a backward reader outside its segment, a
  // segment's input, the logits, a probe); recompute must not drop it either.
  std::vector<bool> pinned;
  std::vector<bool> replayed;  // per storage node: its segment's replay runs its forward
  // Per storage node among those: backward reads its output where the replay wrote it (false: the
  // replay needs it only as an input, or it is recomputed again below).
  std::vector<bool> kept_from_replay;
  // Per storage node: replayed as an input of the replay only, then recomputed by its layer before
  // its first backward reader as outside segments (MemoryOptions::recompute: a BN+ReLU feeding a
  // convolution is not held through the whole stage's backward).
  std::vector<bool> recompute;
  // Per step node: the storage nodes whose forward runs again before its step, in forward order.
  std::vector<std::vector<int>> replay_before;
  // Per replayed node that no backward reads: the replayed node after whose forward its buffer is
  // free (its last reader in the replay); -1 for the others.
  std::vector<int> transient_until;
  // Per step node: the replayed outputs whose last backward reader it is (free after the step).
  std::vector<std::vector<int>> release_after;
};

// The granularity of activation checkpointing (issue #21): the recipe names stages, the planner
// replays residual blocks, so that during a block's backward only that block's activations are
// in the arena (a whole stage replayed at once holds all of its blocks'). Per node, its segment
// or -1 (MemoryOptions::segment): in a stage named in `checkpointed`, the nodes whose names
// share the stage's block prefix (the stage name, a dot and one more name component: "layer1.0"
// for "layer1.0.conv1", as torchvision names a block) form one segment, and the stage's nodes
// without such a prefix (the stem "conv1": conv1, bn1, maxpool) one segment per consecutive run.
// Segment ids are distinct per block and increase in node order.
std::vector<int> block_segments(const std::vector<std::string>& node_names,
                                const std::vector<std::string>& node_stages,
                                const std::vector<std::string>& checkpointed);

// The inputs node i's forward reads: its own, then those its absorbed consumers read besides it
// (what the network passes to Layer::forward).
std::vector<int> forward_inputs(const std::vector<PlanNode>& nodes, const FusionPlan& f, size_t i);

// `segment`: per node, its checkpointed segment or -1 (MemoryOptions::segment; empty: none).
// Updates `kept` (by storage node): a segment's inputs are kept, its dropped outputs are not.
// `recompute`: MemoryOptions::recompute (empty: none).
SegmentPlan plan_segments(const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                          const std::vector<int>& segment, const std::vector<bool>& recompute,
                          std::vector<bool>& kept);

}  // namespace cxr
