// From logits to what predict reports: probabilities (softmax for cross-entropy runs, one
// sigmoid per label for BCE runs, after dividing the logits by the checkpoint's temperature
// when it has one; in double) and the predicted classes: the argmax for single-label runs; for
// multi-label runs every label whose probability is at or above its threshold (`--threshold`
// for all labels, else the checkpoint's per-label Youden thresholds, else 0.5).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cxr {

struct ScoringRule {
  bool multi_label = false;
  std::optional<double> temperature;
  std::vector<double> thresholds;    // per class (multi-label); empty: 0.5 each
};

std::vector<double> probabilities(const float* logits, int64_t k, const ScoringRule& rule);

// Indices of the predicted classes (single-label: exactly one).
std::vector<int64_t> predicted_classes(const std::vector<double>& probs, const ScoringRule& rule);

// The class Grad-CAM explains by default: the argmax (for multi-label runs the most probable
// label, whether or not it passed its threshold).
int64_t top_class(const std::vector<double>& probs);

}  // namespace cxr
