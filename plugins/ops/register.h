// Registers the definition (arity and test cases) of every in-tree op.
#pragma once
#include "engine/layer_registry.h"

namespace cxr {

void register_ops(LayerRegistry& registry);

}  // namespace cxr
