// Gradient-health findings of one run, from its step records and weight change:
//   non_finite  loss or a gradient norm (stage or total) was NaN/Inf (null in metrics.jsonl)
//   spike       a gradient norm above 10 × the running median of that series' previous 50
//               finite values (checked once 10 values exist)
//   vanishing   a trainable stage's gradient norm below 1e-3 × the head's (fc) at the same step
//   frozen      a stage with lr 0, or with weight change exactly 0
// One finding per (kind, series): the first step it happened at, how many steps, the worst
// value and its reference. Steps are optimizer steps (-1: not tied to a step).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reports/run_reader.h"

namespace cxr::report {

struct Finding {
  std::string kind;    // non_finite | spike | vanishing | frozen
  std::string series;  // stage name, "total" or "loss"
  int64_t first_step = -1;
  int64_t count = 0;
  double value = 0, reference = 0;  // worst value and what it was compared with
  std::vector<int64_t> steps;       // the first few steps (at most 10)
  std::string message;              // one sentence for the page
};

struct HealthThresholds {
  double spike_ratio = 10, vanishing_ratio = 1e-3;
  size_t median_window = 50, min_history = 10;
};

std::vector<Finding> gradient_health(const RunData& run, const HealthThresholds& t = {});

}  // namespace cxr::report
