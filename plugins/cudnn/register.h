// The cuDNN backend's layers (one class per op, each in its own file), registered under "cudnn".
// register_cudnn_layers() is generated at build time (cmake/registration_table.cmake): it adds
// every `std::unique_ptr<Layer> make_<op>_cudnn(const OpParams&, Backend&)` defined at the start
// of a line in plugins/cudnn/*.cpp, in namespace cxr::gpu, as ("<op>", "cudnn"). A new layer is
// a new file with such a factory; no list to edit.
#pragma once
#include "engine/layer_registry.h"

namespace cxr {

void register_cudnn_layers(LayerRegistry& registry);

}  // namespace cxr
