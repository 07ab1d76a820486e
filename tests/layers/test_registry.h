// The registry the layer sweeps run over: every built-in op and backend layer, plus the example
// plugin (plugins/examples/gelu), loaded as `--plugin` loads it, so plugins are swept too.
#pragma once
#include <string>

#include "engine/layer_registry.h"
#include "plugins/backends.h"

namespace cxr {

inline const std::string& gelu_plugin_path() {
  static const std::string path = std::string(CXRTUNE_BINARY_DIR) + "/plugins/libcxrtune_gelu.so";
  return path;
}

inline const LayerRegistry& swept_registry() {
  static const LayerRegistry r = [] {
    LayerRegistry reg;
    register_all_layers(reg);
    load_plugin(gelu_plugin_path(), reg);
    return reg;
  }();
  return r;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

}  // namespace cxr
