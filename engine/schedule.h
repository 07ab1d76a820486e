// Learning-rate schedules as a pure function of the optimizer step (0-based): the factor the
// base learning rate is multiplied by at that step.
// - constant: 1.
// - cosine: torch.optim.lr_scheduler.CosineAnnealingLR over the steps after warm-up,
//   min_factor + (1 − min_factor)·(1 + cos(π·t/T))/2 with t = step − warmup, T = total − warmup.
// - onecycle: torch.optim.lr_scheduler.OneCycleLR (cos annealing, two phases, div_factor 25,
//   final_div_factor 1e4, pct_start) over `total_steps`; it brings its own warm-up, and, as
//   PyTorch does by default, cycles the momentum (SGD momentum, Adam β₁) inversely between
//   max_momentum 0.95 and base_momentum 0.85.
// Warm-up (constant and cosine): factor·(step + 1)/warmup_steps for step < warmup_steps.
#pragma once
#include <cstdint>
#include <string>

namespace cxr {

struct ScheduleConfig {
  std::string name = "constant";  // constant | cosine | onecycle
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;        // all optimizer steps of the run
  double min_factor = 0.0;        // cosine: eta_min / lr
  double pct_start = 0.3;         // onecycle
  double div_factor = 25.0, final_div_factor = 1e4;
  bool cycle_momentum = true;     // onecycle
  double base_momentum = 0.85, max_momentum = 0.95;
};

// UsageError for an unknown name or inconsistent numbers.
void validate(const ScheduleConfig& config);
double lr_factor(const ScheduleConfig& config, int64_t step);
// The momentum (SGD) or β₁ (Adam) at `step`: cycled by onecycle, else `configured`.
double momentum_at(const ScheduleConfig& config, int64_t step, double configured);

}  // namespace cxr
