// Which validation images the report's gallery "Where the model looks" shows: the most confident
// false positives, false negatives and true positives, `per_kind` of each.
// Every (image, class) pair of a class that counts is judged: the positive class of a two-class
// single-label run (index 1: classes are sorted, e.g. NORMAL, PNEUMONIA), every class of a
// single-label run with more classes, every label of a multi-label run (a masked target, below
// 0, is not judged). The truth is target ≥ 0.5; the prediction is scoring.h's (argmax, or the
// label over its threshold).
//   false positive: predicted, not true — most confident first: the highest probability
//   false negative: true, not predicted — most confident first: the lowest probability
//   true positive:  predicted and true  — the highest probability first
// Ties go to the earlier image, then the lower class. An image may appear under two classes
// (multi-class or multi-label); Grad-CAM then explains each class separately.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "predict/scoring.h"

namespace cxr {

struct ScoredImage {
  std::vector<double> probs, targets;  // per class; targets 0/1 (one-hot for single-label), < 0 masked
};

struct GalleryPick {
  std::string kind;  // "false_positive" | "false_negative" | "true_positive"
  int64_t image = 0;
  int64_t cls = 0;
  double probability = 0;  // of class `cls`
};

// In display order: false positives, false negatives, true positives.
std::vector<GalleryPick> select_gallery(const std::vector<ScoredImage>& images, const ScoringRule& rule, int64_t per_kind);

}  // namespace cxr
