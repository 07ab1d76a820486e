#include "engine/plan_liveness.h"

#include <string>

#include "core/errors.h"

namespace cxr {

Liveness plan_liveness(const std::vector<PlanNode>& nodes) {
  const size_t n = nodes.size();
  Liveness l;
  l.consumers.assign(n, {});
  l.last_reader.assign(n, -1);
  l.has_backward.assign(n, false);
  l.has_step.assign(n, false);
  l.read_in_backward.assign(n, false);
  l.first_backward_reader.assign(n, -1);
  l.last_backward_reader.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    for (int in : nodes[i].inputs) {
      if (in == PlanNode::kInput) continue;
      if (in < 0 || static_cast<size_t>(in) >= i)
        throw GraphError("plan: node " + std::to_string(i) + " reads node " + std::to_string(in) +
                         ", which does not come before it");
      l.consumers[static_cast<size_t>(in)].push_back(static_cast<int>(i));
      l.last_reader[static_cast<size_t>(in)] = static_cast<int>(i);
    }
    l.has_backward[i] = nodes[i].trains && nodes[i].requires_grad;
  }
  // A step runs where the gradient is wanted and reaches the logits through nodes that want it.
  for (size_t k = n; k-- > 0;) {
    if (!nodes[k].requires_grad) continue;
    bool wanted = k == n - 1;
    for (int c : l.consumers[k]) wanted = wanted || l.has_step[static_cast<size_t>(c)];
    l.has_step[k] = wanted;
  }
  for (size_t i = 0; i < n; ++i) {
    if (l.has_backward[i] && nodes[i].backward_reads_output) l.read_in_backward[i] = true;
    if (!l.has_backward[i]) continue;
    const auto& inputs = nodes[i].inputs;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k] == PlanNode::kInput) continue;
      const auto in = static_cast<size_t>(inputs[k]);
      const bool reads = k >= nodes[i].backward_reads_input.size() || nodes[i].backward_reads_input[k];
      if (!reads) continue;
      l.read_in_backward[in] = true;
      if (!l.has_step[i]) continue;
      l.first_backward_reader[in] = static_cast<int>(i);  // rising i: the last one set is the largest
      if (l.last_backward_reader[in] < 0) l.last_backward_reader[in] = static_cast<int>(i);
    }
  }
  if (n > 0) l.read_in_backward[n - 1] = true;  // the logits
  for (size_t i = 0; i < n; ++i)
    if (nodes[i].probe) l.read_in_backward[i] = true;
  return l;
}

}  // namespace cxr
