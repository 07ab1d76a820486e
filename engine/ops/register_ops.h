// Registers the definition (name and test cases) of every in-tree op: one call per
// engine/ops/<op>.cpp defining `OpInfo <op>_op_info()`, generated at build time.
#pragma once
#include "engine/layer_registry.h"

namespace cxr {

void register_ops(LayerRegistry& registry);

}  // namespace cxr
