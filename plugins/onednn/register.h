// The oneDNN backend's layers (one class per op, each in its own file).
// register_onednn_layers() is generated at build time (cmake/registration_table.cmake): it adds
// every `std::unique_ptr<Layer> make_<op>_onednn(const OpParams&, Backend&)` defined at the start
// of a line in plugins/onednn/*.cpp, in namespace cxr::dnn, as ("<op>", "onednn"). A new layer is
// a new file with such a factory; no list to edit.
#pragma once
#include "engine/layer_registry.h"

namespace cxr {

void register_onednn_layers(LayerRegistry& registry);

}  // namespace cxr
