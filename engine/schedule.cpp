#include "engine/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/errors.h"

namespace cxr {

void validate(const ScheduleConfig& c) {
  if (c.name != "constant" && c.name != "cosine" && c.name != "onecycle")
    throw UsageError("schedule.name: '" + c.name + "' is not one of constant, cosine, onecycle");
  if (c.warmup_steps < 0) throw UsageError("schedule.warmup_steps must be >= 0");
  if (c.total_steps < 1) throw UsageError("schedule: the run has no optimizer steps");
  if (c.pct_start <= 0 || c.pct_start >= 1) throw UsageError("schedule.pct_start must be in (0, 1)");
  if (c.min_factor < 0 || c.min_factor > 1) throw UsageError("schedule.min_lr must be between 0 and lr");
}

namespace {

// OneCycleLR's two phases: (from1 → to1) until pct_start·T − 1, then (to1 → to2) until T − 1.
double one_cycle(const ScheduleConfig& c, int64_t step, double from1, double to1, double to2) {
  const double end1 = c.pct_start * static_cast<double>(c.total_steps) - 1.0;
  const double end2 = static_cast<double>(c.total_steps) - 1.0;
  const double s = static_cast<double>(step);
  auto anneal = [](double from, double to, double pct) {
    return to + (from - to) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  };
  if (s <= end1) return anneal(from1, to1, s / end1);
  return anneal(to1, to2, (s - end1) / (end2 - end1));
}

}  // namespace

double momentum_at(const ScheduleConfig& c, int64_t step, double configured) {
  if (c.name != "onecycle" || !c.cycle_momentum) return configured;
  return one_cycle(c, step, c.max_momentum, c.base_momentum, c.max_momentum);
}

double lr_factor(const ScheduleConfig& c, int64_t step) {
  if (c.name == "onecycle") {
    // initial = 1/div, peak 1, then down to initial/final_div.
    const double initial = 1.0 / c.div_factor;
    return one_cycle(c, step, initial, 1.0, initial / c.final_div_factor);
  }
  double factor = 1.0;
  if (c.name == "cosine") {
    const int64_t span = std::max<int64_t>(1, c.total_steps - c.warmup_steps);
    const double t = static_cast<double>(std::clamp<int64_t>(step - c.warmup_steps, 0, span));
    factor = c.min_factor + (1.0 - c.min_factor) * (1.0 + std::cos(std::numbers::pi * t / static_cast<double>(span))) / 2.0;
  }
  if (step < c.warmup_steps) factor *= static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  return factor;
}

}  // namespace cxr
