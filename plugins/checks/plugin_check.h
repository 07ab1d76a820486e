// What `cxrtune check-plugin LIB.so` runs: the plugin is loaded into a registry that already
// holds every built-in op and layer, and what the plugin registered is checked:
// - gradcheck (gradcheck.h) of every op the plugin defines or whose reference it registers;
// - parity (parity.h) of every non-reference layer the plugin registers, in each precision the
//   backend computes in, against the reference (the plugin's, or the built-in one).
// An op the plugin defines without a reference fails (there is no truth to check against).
#pragma once
#include <string>
#include <vector>

#include "plugins/checks/check_result.h"

namespace cxr::checks {

struct PluginReport {
  std::string plugin;
  std::vector<std::string> ops;  // the ops checked, sorted
  std::vector<CheckRow> rows;    // gradchecks first, then parity rows
  // Coverage the op's own test cases lack (printed, not failures): no case with batch 1, or no
  // odd size past the batch dimension (where blocked layouts and strides break first).
  std::vector<std::string> notes;
  bool passed() const;           // every row passed or was skipped, and there is at least one
};

// UsageError when the library cannot be loaded or lacks cxrtune_register_plugin, when it
// registers nothing, or when `only_op` is not among the ops it registers; GraphError (a bad
// plugin: a name registered twice) as load_plugin throws it.
PluginReport check_plugin(const std::string& path, const std::string& only_op = "");

}  // namespace cxr::checks
