// LayerRegistry: the explicit table of (op, backend) → factory, and of op name → OpInfo (the
// op's test cases). No static initialisers fill it: the in-tree tables are generated at build
// time from the sources (cmake/registration_table.cmake: every `make_<op>_<backend>` factory
// and every `<op>_op_info()` becomes one explicit call in register_<backend>_layers /
// register_ops), and plugins from outside call add() in cxrtune_register_plugin(registry).
// Because it can list its entries, one sweep checks every (op, backend) pair against the
// reference (plugins/checks).
//
// Names are unique: add_op() or add() for a name already present is a GraphError naming the
// op, the backend and who registered it first. A plugin that means to replace an existing
// implementation calls replace(), which logs one stderr line naming op, backend and plugin.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/layer.h"

namespace cxr {

using LayerFactory = std::function<std::unique_ptr<Layer>(const OpParams&, Backend&)>;

// One test case of an op: parameters, input shapes, and how to fill the inputs.
struct OpCase {
  std::shared_ptr<const OpParams> params;
  std::vector<Shape> inputs;
  std::vector<bool> differentiable;  // per input; empty = all
  // Fills input `i` with valid values (class indices, targets in [0,1]); null = N(0,1).
  std::function<void(size_t i, std::span<float> values, std::mt19937& rng)> fill;
};

// What the registry knows about an op independent of backends: its test cases (odd sizes,
// batch 1, stride 2, ...), which the gradcheck and parity sweeps run on every backend.
struct OpInfo {
  std::string name;
  std::function<std::vector<OpCase>()> cases;
};

class LayerRegistry {
 public:
  void add_op(OpInfo info);
  void add(const std::string& op, const std::string& backend, LayerFactory factory);
  // Replaces an existing (op, backend) entry; GraphError when there is none. Logged on stderr.
  void replace(const std::string& op, const std::string& backend, LayerFactory factory);

  bool has(const std::string& op, const std::string& backend) const;
  const OpInfo* op_info(const std::string& op) const;
  // GraphError naming the op, the backend and the backends that do have it.
  std::unique_ptr<Layer> create(const OpParams& params, Backend& backend) const;
  std::vector<std::pair<std::string, std::string>> entries() const;  // (op, backend), sorted
  std::vector<std::string> ops() const;                              // op names with an OpInfo, sorted
  // Who registered it: "" for built-in code, else the path given to load_plugin().
  std::string origin(const std::string& op, const std::string& backend) const;
  std::string op_origin(const std::string& op) const;

 private:
  friend void load_plugin(const std::string& path, LayerRegistry& registry);
  struct Entry {
    LayerFactory factory;
    std::string origin;
  };
  std::string who(const std::string& origin) const;

  std::map<std::string, OpInfo> ops_;
  std::map<std::string, std::string> op_origins_;
  std::map<std::pair<std::string, std::string>, Entry> factories_;
  std::string loading_;  // the plugin whose cxrtune_register_plugin is running, "" otherwise
  std::vector<std::string> loaded_;  // canonical paths of the plugins loaded
};

// Loads a shared library exporting `extern "C" void cxrtune_register_plugin(cxr::LayerRegistry&)`
// and calls it; what it registers is marked with `path` (origin()). The library stays loaded
// for the process lifetime. The same file loaded again into the same registry (a recipe's
// `plugins:` and `--plugin` naming it both) is a no-op; another library registering a name that
// exists is the GraphError. UsageError naming the file when it cannot be opened or lacks the
// symbol; GraphError (from add) when it registers a name that exists without replace().
void load_plugin(const std::string& path, LayerRegistry& registry);

}  // namespace cxr
