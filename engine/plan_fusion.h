// The planner's second pass: which layers take over their consumer's forward, and which layers
// take a second gradient summand themselves (see plan_liveness.h for the passes).
//
// The patterns are the layers' own (Layer::absorb, absorb_in_training, backward_sums_dy): this
// pass decides where asking is legal and records the answers. Legal means:
// - the consumer j is the only reader of node i's output and reads it once, and j's other inputs
//   are computed before i's absorber runs (a smaller node index; the network input always is);
// - i is not a probe (its output must exist);
// - eval: neither i's absorber nor j is prepared for training (a probe's backward path keeps
//   its own layers). Chains are allowed: the absorber of i may absorb i's consumer too;
// - training: no chains, i's own backward does not read i's output (never written) and j's
//   backward does not read the input that was i (it would read j's output).
// A producer takes a second summand of its output gradient (backward_summed) when it says it
// can (sums_dy), the option is on, and it is not a probe (its gradient is read whole).
#pragma once
#include <functional>
#include <vector>

#include "engine/plan_liveness.h"

namespace cxr {

struct FusionOptions {
  bool training = false;
  bool absorb = true;          // eval: Layer::absorb; training: Layer::absorb_in_training
  bool producer_sums = true;   // backward_sums_dy
};

struct FusionPlan {
  std::vector<int> absorbed_by;               // per node: the node computing its forward, or -1
  std::vector<bool> absorbs;                  // per node: it computes a consumer's forward too
  std::vector<std::vector<int>> extra_inputs;  // per absorber: its absorbed nodes' other inputs, in order
  std::vector<bool> takes_summand;            // per node: may get its gradient as two summands
  // The node whose memory holds node i's output: its absorber's, or its own.
  size_t storage_of(size_t i) const { return absorbed_by[i] >= 0 ? static_cast<size_t>(absorbed_by[i]) : i; }
};

// Asks the layer of `absorber` to take over `consumer`, whose other inputs are `others` (node
// indices or kInput, in order). True: it did (the network has checked the descriptors).
using TryAbsorb = std::function<bool(size_t absorber, size_t consumer, const std::vector<int>& others)>;

FusionPlan plan_fusion(const std::vector<PlanNode>& nodes, const Liveness& liveness, const FusionOptions& options,
                       const TryAbsorb& try_absorb);

}  // namespace cxr
