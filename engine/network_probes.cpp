#include "engine/network_probes.h"

#include "core/errors.h"

namespace cxr {

ProbePlan plan_probes(const Graph& graph, const std::vector<std::string>& names,
                      const std::vector<bool>& same_in_training, bool training) {
  const size_t n = graph.nodes.size();
  ProbePlan plan;
  plan.probe.assign(n, false);
  plan.backward.assign(n, false);
  plan.layer_training.assign(n, training);
  plan.downstream.assign(n, {});
  for (const std::string& name : names) {
    bool found = false;
    for (size_t i = 0; i < n; ++i)
      if (graph.nodes[i].name == name) plan.probe[i] = found = true;
    if (!found) throw GraphError("network '" + graph.arch + "': no node named '" + name + "' to probe");
  }
  for (size_t p = 0; p < n; ++p) {
    if (!plan.probe[p]) continue;
    std::vector<bool> down(n, false);
    bool same = true;
    for (size_t k = p + 1; k < n; ++k) {
      for (int in : graph.nodes[k].inputs)
        if (in != NodeSpec::kInput && (static_cast<size_t>(in) == p || down[static_cast<size_t>(in)])) down[k] = true;
      if (down[k] && !same_in_training.at(k)) same = false;
    }
    plan.backward[p] = training || same;
    if (!training && same)
      for (size_t k = 0; k < n; ++k)
        if (down[k]) plan.layer_training[k] = true;
    plan.downstream[p] = std::move(down);
  }
  return plan;
}

size_t probe_index(const ProbePlan& plan, const Graph& graph, const std::string& name, const char* what) {
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].name == name) {
      if (i < plan.probe.size() && plan.probe[i]) return i;
      break;
    }
  throw GraphError("network '" + graph.arch + "': " + what + "('" + name +
                   "'): not a probe of the prepared network (set_probes, then prepare)");
}

}  // namespace cxr
