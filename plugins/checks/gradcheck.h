// Finite-difference gradient check of an op's reference implementation, generic over every
// registered OpInfo case (in-tree ops and plugins alike): d/dv Σ r·f(v) by central differences,
// computed in double, against the layer's backward, for every differentiable input and every
// parameter, in training mode on the "reference" backend.
//
// Precision: the reference layers do their arithmetic in double but the engine's tensors are
// f32 (there is no f64 dtype), so the step is h = 1e-3 and the tolerance 1e-2 of the tensor's
// gradient scale (max |analytic|): the f32 rounding of the outputs, not the method, bounds it. A factor-2 error in a
// backward is an error of 0.5. Points where the two one-sided differences disagree (a kink of
// ReLU/max-pool within h) are skipped and counted; more than a quarter skipped is a failure. A
// probe over tolerance is retried with h/10 (a kink inside a sum, e.g. a BN bias under a fused
// ReLU, rarely straddles both steps; a wrong derivative is wrong at both).
// Up to 40 elements per tensor are probed (evenly spaced).
#pragma once
#include <string>

#include "engine/layer_registry.h"
#include "plugins/checks/check_result.h"

namespace cxr::checks {

// GraphError/UsageError from the layer become failures in the row, not exceptions. A row that
// fails when the op has no OpInfo, no cases or no reference implementation.
CheckRow gradcheck_reference(const LayerRegistry& registry, const std::string& op);

}  // namespace cxr::checks
