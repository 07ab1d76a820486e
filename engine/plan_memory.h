// The planner's third pass: which outputs are kept, dropped and recomputed, and where every
// short-lived activation and gradient lives in one arena; the backward steps in the order the
// network runs them (see plan_liveness.h for the passes).
//
// Memory rules:
// - An output is kept (own memory) until backward when some backward reads it, when it is the
//   logits or a probe; every other output lives in the arena from its producer to its last
//   consumer, and its memory is reused later in forward and then by gradients. An absorbed
//   node's output is its absorber's (FusionPlan::storage_of).
// - Recompute: an output that is kept only for its consumers' backward, that its layer can
//   recompute (and whose own backward does not read it), whose inputs are kept, which is neither
//   an absorber nor absorbed nor a probe, and which MemoryOptions::recompute asks for, is dropped
//   after forward and recomputed into the arena before its first reader in backward.
// - Activation checkpointing (MemoryOptions::segment): in a segment, every output that some
//   backward reads, that no node outside the segment reads in backward and that is neither the
//   logits nor a probe is dropped after forward, when its layer can replay its forward
//   (can_replay) from inputs that are kept or replayed too. Before the first backward step that
//   reads a dropped output, the segment's forward runs again (StepPlan::replay) into arena
//   buffers: the dropped outputs live until their last backward reader, the other outputs the
//   replay needs only until its last reader in the replay. What a segment's nodes read from
//   outside it (the previous block's output, or the network input) is kept and never
//   recomputed; segments replay one at a time, each before its own first backward reader, so
//   only one segment's replayed outputs are in the arena at once. Inside a segment, an output that recompute (above) asks for and whose inputs are
//   still there at its first backward reader is freed after the replay's last read of it and
//   recomputed there (so BN+ReLU outputs are not held through the whole segment's backward).
// - Gradients: a node's output gradient lives from its first writer (the last consumer in
//   forward order) until its producer's step has read it; a second writer writes a partial that
//   is added to it after that step (a sum), or handed to the producer as a second summand when
//   FusionPlan::takes_summand says so (the first such partial only). A layer whose input
//   gradients are equal (add) writes one buffer for all inputs with the same descriptor when
//   that is safe (see may_share in plan_memory.cpp); never for a probe. A probe's gradient
//   lives to the end of backward (Network::backward_to reads it after the steps it skips).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/arena.h"
#include "engine/plan_fusion.h"
#include "engine/plan_liveness.h"

namespace cxr {

struct MemoryOptions {
  // Per node: may its output be dropped after forward and recomputed in backward (when the rules
  // above allow)? Empty: none. The network asks for all (set_recompute_outputs); activation
  // checkpointing by stage (issue #21) will pass its own selection here.
  std::vector<bool> recompute;
  // Per node: a key of its output descriptor (layout, dtype, shape); equal keys may share a
  // gradient buffer (input_grads_equal). Empty: never shared.
  std::vector<std::string> desc_key;
  // Per node: the checkpointed segment it belongs to (activation checkpointing: the rules above),
  // or -1. Empty: none. The network passes one segment per residual block of a checkpointed
  // stage (block_segments in plan_segments.h).
  std::vector<int> segment;
  // Kept outputs (but the logits) live in the arena from their producer to their last read in
  // backward instead of in own memory through the whole step, so that backward reuses their
  // bytes once read (with checkpointing, the blocks' inputs of the deeper stages are free by the
  // time the first stages' backward runs). The price: backward() may run once per forward(),
  // the kept outputs are overwritten after it. Ignored when a node is a probe (backward_to()
  // runs backward more than once per forward). The network asks for it with checkpointing.
  bool hold_kept_in_arena = false;
};

// The gradient of one input written by a backward step: `node`'s gradient (its own buffer) or a
// partial of it (`partial`), in arena buffer `buffer`. node < 0: not wanted (nullptr).
struct GradTarget {
  int node = -1;
  int buffer = -1;
  bool partial = false;
};

struct StepPlan {
  int node = 0;
  int dy_buffer = -1;                // the output gradient's buffer; -1: the caller's dlogits
  int dy_partial_buffer = -1;        // a second summand the layer adds itself, or -1
  std::vector<GradTarget> dx;        // per input
  std::vector<int> replay;           // first: nodes whose forward runs again (a segment), in order
  std::vector<int> recompute;        // then: nodes whose outputs are recomputed before the step
  std::vector<GradTarget> sums;      // after the step: grad(node) += the partial in buffer
};

struct MemoryPlan {
  std::vector<bool> kept;             // per node: own memory until backward (storage nodes only)
  // Per node: kept, but in the arena (act_buffer) until its last read in backward
  // (MemoryOptions::hold_kept_in_arena; storage nodes only).
  std::vector<bool> held;
  std::vector<int> act_buffer;        // per node: its arena buffer, or -1 (kept, or absorbed)
  // Per node: backward finds its output in recompute_buffer, recomputed by its layer or replayed
  // with its segment (absorbed nodes: their absorber's buffer).
  std::vector<bool> recomputed;
  std::vector<bool> replayed;         // per node: written by its segment's replay
  std::vector<int> recompute_buffer;  // per node: where backward finds it recomputed, or -1
  std::vector<int> replay_buffer;     // per node: where its segment's replay writes it, or -1
  std::vector<int> grad_buffer;       // per node: its output gradient's buffer, or -1
  std::vector<StepPlan> steps;        // backward, in execution order
  ArenaPlan arena;                    // placed
};

MemoryPlan plan_memory(const std::vector<PlanNode>& nodes, const Liveness& liveness, const FusionPlan& fusion,
                       const MemoryOptions& options);

}  // namespace cxr
