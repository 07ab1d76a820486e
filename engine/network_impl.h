// Network's private state (network.cpp prepares and runs it; network_access.cpp answers
// questions about it). Not part of the engine's interface.
#pragma once
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/errors.h"
#include "engine/network.h"
#include "engine/network_probes.h"
#include "engine/plan_memory.h"

namespace cxr {

struct Network::Impl {  // NOLINT: declared in network.h
  // One planned backward step with its tensors bound.
  struct StepRun {
    size_t node = 0;
    const Tensor* dy = nullptr;          // null: the caller's dlogits
    const Tensor* dy_partial = nullptr;  // a second summand the layer adds itself
    std::vector<Tensor*> dx;             // per input; null = not wanted
    std::vector<std::pair<Tensor*, const Tensor*>> sums;  // target += partial, after the step
    std::vector<int> replay;  // checkpointed nodes whose forward runs again first
    std::vector<int> recompute;
  };

  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<TensorDesc> descs;
  std::vector<PlanNode> nodes;
  Liveness liveness;
  FusionPlan fusion;
  MemoryPlan memory;
  ProbePlan probes;
  bool recompute_outputs = true;
  bool training_fusions = true;
  bool eval_fusions = true;
  std::vector<std::string> probe_names;
  std::vector<std::string> checkpointed_stages;

  Tensor input, block;                         // the arena's memory
  std::vector<Tensor> acts, grads, recomputed;  // per node (views into the block, or own memory)
  std::vector<Tensor> replayed;                 // per node: where a checkpointed segment's replay writes it
  std::deque<Tensor> partials;
  std::vector<StepRun> steps;
  std::map<std::string, std::unique_ptr<Layer>> summers;  // add layers per gradient desc
  Shape prepared_shape;
  bool prepared_training = false, prepared = false, forwarded = false;
  int gradient_at = -1;  // the probe whose gradient backward_to() filled
  const LayerRegistry* registry = nullptr;
  Backend* backend = nullptr;

  Tensor view(int buffer, const TensorDesc& desc) const {
    const ArenaBuffer& b = memory.arena.buffer(buffer);
    if (desc.bytes() > b.bytes) throw GraphError("memory plan: a view larger than its buffer");
    return Tensor::view(desc, backend->device(), static_cast<char*>(block.data()) + b.offset);
  }
};

// Runs the bound backward steps whose node `run` accepts, in plan order (network.cpp).
void run_backward_steps(Network::Impl& m, const Graph& graph, const Tensor& dlogits, Context& ctx,
                        const std::vector<bool>* only);
void check_dlogits(const Network::Impl& m, const Graph& graph, const Tensor& dlogits);

}  // namespace cxr
