#include "engine/weight_change.h"

#include <cmath>

#include "core/errors.h"

namespace cxr {

WeightChange::WeightChange(Network& net) {
  for (Parameter* p : net.parameters()) {
    std::vector<float> v(static_cast<size_t>(p->value.numel()));
    net.backend().read_plain(p->value, v.data());
    initial_[p->name] = std::move(v);
  }
}

std::map<std::string, double> WeightChange::relative_change(Network& net) const {
  std::map<std::string, double> diff, base, out;
  std::vector<float> now;
  for (Parameter* p : net.parameters()) {
    auto it = initial_.find(p->name);
    if (it == initial_.end()) throw RuntimeFailure("weight change: no initial value of " + p->name);
    now.resize(static_cast<size_t>(p->value.numel()));
    net.backend().read_plain(p->value, now.data());
    double d = 0, b = 0;
    for (size_t i = 0; i < now.size(); ++i) {
      const double w0 = it->second[i];
      d += (now[i] - w0) * (now[i] - w0);
      b += w0 * w0;
    }
    diff[p->stage] += d;
    base[p->stage] += b;
  }
  for (const std::string& stage : net.graph().stages)
    out[stage] = base[stage] > 0 ? std::sqrt(diff[stage] / base[stage]) : 0.0;
  return out;
}

}  // namespace cxr
