// Parity of one registry entry (op, backend, precision) with the "reference" backend, forward
// and backward, on every test case of the op (in-tree ops and plugins alike): outputs, input
// gradients, parameter gradients and buffers (BN running statistics), in training and in eval
// mode. Inputs are fed both plain and in the backend's own activation layout (what a network
// gives a layer), and on cuDNN also mixed: a linear's 2-D input plain in the compute dtype
// (bf16/f16 GEMMs), an add's inputs one in the activation layout and one plain. Layers that can
// recompute their output (BN) must reproduce it bit for bit.
//
// Errors are max |a − b| / max(1, max |b|) per tensor against the double reference, below
// 1e-4 (f32), 1e-2 (bf16) or 2e-3 (f16); inputs and parameters are rounded to the compute
// precision first, so the test compares arithmetic, not input quantisation.
#pragma once
#include <string>
#include <vector>

#include "engine/layer_registry.h"
#include "engine/tensor.h"
#include "plugins/checks/check_result.h"

namespace cxr::checks {

struct ParityTarget {
  std::string op, backend;
  DType dtype = DType::F32;  // the backend's compute precision
  std::string conv_algorithm = "direct";
  std::string label() const;  // "f32", "bf16", "f32/winograd"
};

// Every non-reference entry of the registry in f32; oneDNN conv2d also with Winograd; oneDNN
// also in bf16, cuDNN also in bf16 and f16. `ops` non-empty: only those ops.
std::vector<ParityTarget> parity_targets(const LayerRegistry& registry, const std::vector<std::string>& ops = {});

// Skipped (with the reason) when the backend cannot run here (cuDNN without a GPU, bf16 without
// the ISA); failed when the op has no cases or no reference, or any tensor is over tolerance.
CheckRow parity_check(const LayerRegistry& registry, const ParityTarget& target);

}  // namespace cxr::checks
