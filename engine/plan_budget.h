// Activation checkpointing under a memory budget (issue #21): the planner's estimate of a
// training process's peak memory for a choice of checkpointed stages, and the choice of the
// fewest stages whose estimate fits (train.activation_checkpointing: auto, cxrtune bench).
//
// The estimate counts what the training step holds at its peak, all allocated before the first
// step and touched by it: the memory plan (input batch, kept outputs, the arena of short-lived
// outputs and gradients), every other tensor the process holds once the layers are prepared
// (parameters, gradients, optimizer state, layer buffers, the backend's scratchpads), what the
// caller adds (the loader's prefetched batches), and the process baseline measured now (resident
// memory that is not a tensor: code, libraries, the heap). On a GPU backend it counts device
// tensors only: parameters, gradients, two optimizer moments and the plan.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/network.h"

namespace cxr {

struct PeakEstimate {
  int64_t baseline = 0;     // resident memory besides tensors, when estimated
  int64_t tensors = 0;      // tensors outside the plan (parameters, gradients, optimizer, layers)
  int64_t input = 0, kept = 0, arena = 0;  // the memory plan (Network::ActivationMemory)
  int64_t extra = 0;        // the caller's
  int64_t total() const { return baseline + tensors + input + kept + arena + extra; }
};

// The estimate with `stages` checkpointed, for a network to be prepared for training on
// `input_shape` (prepares its layers for that shape: call before Network::prepare).
PeakEstimate estimate_training_peak(Network& net, const Shape& input_shape, const std::vector<std::string>& stages,
                                    int64_t extra_bytes);

struct CheckpointChoice {
  std::vector<std::string> stages;  // graph order
  PeakEstimate estimate;
  bool fits = false;  // false: even every stage does not fit; `stages` is then all of them
};

// The fewest stages whose estimate is at most `limit_bytes`; among choices of as many stages,
// the lowest estimate (the most bytes saved). Stages are the graph's, in its order.
CheckpointChoice choose_checkpointed_stages(Network& net, const Shape& input_shape, int64_t limit_bytes,
                                            int64_t extra_bytes);

// "3.2 GiB" (one decimal).
std::string format_gib(int64_t bytes);

}  // namespace cxr
