#include "engine/grad_stats.h"

#include <cmath>

#include "engine/backend.h"

namespace cxr {

GradNorms grad_norms(Backend& backend, const std::vector<Parameter*>& params,
                     const std::vector<std::string>& stages) {
  GradNorms out;
  std::map<std::string, double> squares;
  for (const std::string& s : stages) squares[s] = 0.0;
  std::map<std::string, bool> bad;
  double total = 0.0;
  for (Parameter* p : params) {
    if (!p->trainable || !p->grad.defined()) continue;
    const double sq = backend.sum_squares(p->grad);
    // A NaN or Inf makes the sum non-finite, so one reduction serves both questions.
    if (!std::isfinite(sq)) bad[p->stage] = true;
    squares[p->stage] += sq;
    total += sq;
  }
  for (const auto& [stage, sq] : squares) out.stage[stage] = std::sqrt(sq);
  out.total = std::sqrt(total);
  out.finite = bad.empty();
  for (const std::string& s : stages)
    if (bad.count(s)) {
      out.first_nonfinite_stage = s;
      break;
    }
  if (!out.finite && out.first_nonfinite_stage.empty()) out.first_nonfinite_stage = bad.begin()->first;
  return out;
}

}  // namespace cxr
