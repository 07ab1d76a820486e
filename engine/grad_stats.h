// Per-stage gradient L2 norms (docs/run-directory.md, metrics.jsonl "grad_norm"): the norm, over all
// trainable parameters of a stage (weights, biases, BN scale and shift), of the gradient of the
// batch-mean loss, before clipping and before the optimizer step; "total" over all of them.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/layer.h"

namespace cxr {

class Backend;

struct GradNorms {
  double total = 0.0;
  std::map<std::string, double> stage;  // every stage of the network, 0 when it has no gradient
  bool finite = true;                   // false when any gradient element is NaN/Inf
  std::string first_nonfinite_stage;    // input side first; empty when finite
};

// `stages` gives the order (input side first) used to name the first non-finite stage.
GradNorms grad_norms(Backend& backend, const std::vector<Parameter*>& params,
                     const std::vector<std::string>& stages);

}  // namespace cxr
