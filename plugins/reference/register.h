// The reference backend's layers: plain loops in double, the truth for every test.
// register_reference_layers() is generated at build time (cmake/registration_table.cmake): it adds
// every `std::unique_ptr<Layer> make_<op>_reference(const OpParams&, Backend&)` defined at the start
// of a line in plugins/reference/*.cpp, in namespace cxr::ref, as ("<op>", "reference"). A new layer is
// a new file with such a factory; no list to edit.
#pragma once
#include "engine/layer_registry.h"

namespace cxr {

void register_reference_layers(LayerRegistry& registry);

}  // namespace cxr
