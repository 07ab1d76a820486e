#include "engine/plan_fusion.h"

namespace cxr {

FusionPlan plan_fusion(const std::vector<PlanNode>& nodes, const Liveness& liveness, const FusionOptions& options,
                       const TryAbsorb& try_absorb) {
  const size_t n = nodes.size();
  FusionPlan f;
  f.absorbed_by.assign(n, -1);
  f.absorbs.assign(n, false);
  f.extra_inputs.assign(n, {});
  f.takes_summand.assign(n, false);
  for (size_t i = 0; i < n; ++i)
    f.takes_summand[i] = options.producer_sums && nodes[i].sums_dy && !nodes[i].probe;
  if (!options.absorb) return f;
  const bool training = options.training;
  for (size_t i = 0; i < n; ++i) {
    if (liveness.consumers[i].size() != 1 || nodes[i].probe) continue;
    const auto j = static_cast<size_t>(liveness.consumers[i][0]);
    const size_t a = f.storage_of(i);
    if (training && (a != i || nodes[i].backward_reads_output)) continue;
    if (!training && (nodes[a].trains || nodes[j].trains)) continue;
    std::vector<int> others;
    bool ready = true;
    int reads_of_i = 0;
    const auto& inputs = nodes[j].inputs;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const int in = inputs[k];
      if (in == static_cast<int>(i)) {
        ++reads_of_i;
        const bool reads = k >= nodes[j].backward_reads_input.size() || nodes[j].backward_reads_input[k];
        if (training && reads) ready = false;  // it would read j's output
        continue;
      }
      if (in != PlanNode::kInput && f.storage_of(static_cast<size_t>(in)) >= a) ready = false;
      others.push_back(in);
    }
    if (!ready || reads_of_i != 1 || !try_absorb(a, j, others)) continue;
    f.absorbed_by[j] = static_cast<int>(a);
    f.absorbs[a] = true;
    for (int o : others) f.extra_inputs[a].push_back(o);
  }
  return f;
}

}  // namespace cxr
