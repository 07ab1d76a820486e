#include "engine/plan_budget.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace cxr {
namespace {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

PeakEstimate estimate_training_peak(Network& net, const Shape& input_shape, const std::vector<std::string>& stages,
                                    int64_t extra_bytes) {
  const Network::ActivationMemory a = net.planned_activation_memory(input_shape, stages);
  PeakEstimate e;
  e.input = a.input, e.kept = a.kept, e.arena = a.arena, e.extra = extra_bytes;
  if (net.backend().device() == Device::Cpu) {
    const int64_t tensors = host_tensor_bytes();  // includes the input batch just allocated
    e.baseline = std::max<int64_t>(0, resident_bytes() - tensors);
    e.tensors = std::max<int64_t>(0, tensors - a.input);
  } else {
    for (Parameter* p : net.parameters()) e.tensors += 4 * p->value.bytes();  // value, grad, two moments
  }
  return e;
}

CheckpointChoice choose_checkpointed_stages(Network& net, const Shape& input_shape, int64_t limit_bytes,
                                            int64_t extra_bytes) {
  const std::vector<std::string>& all = net.graph().stages;  // input side first
  const size_t n = all.size();
  // One measurement of what does not depend on the choice; then only the plan changes.
  const PeakEstimate base = estimate_training_peak(net, input_shape, {}, extra_bytes);
  auto estimate = [&](const std::vector<std::string>& stages) {
    PeakEstimate e = base;
    const Network::ActivationMemory a = net.planned_activation_memory(input_shape, stages);
    e.input = a.input, e.kept = a.kept, e.arena = a.arena;
    return e;
  };
  CheckpointChoice best;
  for (size_t count = 0; count <= n; ++count) {
    bool found = false;
    for (uint64_t mask = 0; mask < (uint64_t{1} << n); ++mask) {
      if (static_cast<size_t>(__builtin_popcountll(mask)) != count) continue;
      std::vector<std::string> stages;
      for (size_t s = 0; s < n; ++s)
        if (mask >> s & 1) stages.push_back(all[s]);
      const PeakEstimate e = count == 0 ? base : estimate(stages);
      if (!found || e.total() < best.estimate.total()) best = {stages, e, e.total() <= limit_bytes}, found = true;
    }
    if (best.fits) return best;
  }
  best.stages = all;
  best.estimate = estimate(all);
  best.fits = false;
  return best;
}

std::string format_gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

}  // namespace cxr
