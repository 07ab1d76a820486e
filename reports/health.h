// Gradient-health findings of one run, from its step records and weight change:
//   non_finite  loss or a gradient norm (stage or total) was NaN/Inf (null in metrics.jsonl)
//   spike       a gradient norm above 10 × the running median of that series' previous 50
//               finite values (checked once 10 values exist)
//   vanishing   a trainable stage's gradient norm below 1e-3 × the head's (fc) at the same step
//   frozen      a stage with lr 0, or with weight change exactly 0
// One finding per (kind, series): the first step it happened at, how many steps, the worst
// value and its reference. Steps are optimizer steps (-1: not tied to a step).
// Validation findings of one run, from its epoch records (validation_health.cpp):
//   non_finite  a validation loss was NaN/Inf (series "val_loss"; first_step is the epoch)
//   diverging   the last finite validation loss is above loss_rise (2) × the lowest one of an
//               earlier epoch (series "val_loss"; value: last, reference: minimum)
//   chance      the last validation accuracy is within chance_margin (0.02) of chance after an
//               earlier epoch was at least learned_margin (0.10) above it; chance is always
//               predicting the majority class (its share, from the epoch's confusion matrix,
//               else val_predictions.json, else run_info's val counts); single-label runs only
//               (series "val_accuracy"; value: last, reference: chance)
// For these, first_step and steps hold epochs, not steps.
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

struct ValidationThresholds {
  double loss_rise = 2, chance_margin = 0.02, learned_margin = 0.10;
};

std::vector<Finding> validation_health(const RunData& run, const ValidationThresholds& t = {});
// The share of the most frequent class in the last validation; NaN when unknown (multi-label,
// or no counts at all).
double chance_accuracy(const RunData& run);

// gradient_health, then validation_health: every finding the page and the JSON summary list.
std::vector<Finding> run_health(const RunData& run);

}  // namespace cxr::report
