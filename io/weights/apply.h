// Putting a StateDict into a Network and taking one out. Keys are torchvision's. All problems
// are collected and reported at once (missing, unexpected, shape-mismatched keys with expected
// and found shapes) as one UsageError. A pretrained head whose class count differs is skipped
// (the caller re-initialises fc as torchvision does) and the report says so; a 3-channel
// conv1.weight is folded onto a 1-channel network by summing over the RGB axis.
#pragma once
#include <string>
#include <vector>

#include "engine/network.h"
#include "io/weights/state_dict.h"

namespace cxr {

struct LoadReport {
  int64_t loaded = 0;                  // entries written
  bool head_replaced = false;          // fc.* skipped: num_classes differs
  bool conv1_folded = false;           // RGB conv1 summed to grayscale
  std::vector<std::string> notes;      // human-readable, one line each
};

struct ApplyOptions {
  bool allow_head_mismatch = true;     // skip fc.* when only its class count differs
  std::string source;                  // file name, for messages
};

LoadReport apply_state_dict(Network& net, const StateDict& dict, const ApplyOptions& options);

// Every parameter and buffer, as F32 (counters I64), in state_dict order.
StateDict network_state_dict(Network& net);

}  // namespace cxr
