// LayerRegistry: the explicit table of (op, backend) → factory. Backends fill it with a
// register_<backend>_layers(registry) function that lists every entry (no static initialisers),
// and plugins from outside with cxrtune_register_plugin(registry). Because it can list its
// entries, one test sweeps every (op, backend) pair against the reference.
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

// What the registry knows about an op independent of backends.
struct OpInfo {
  std::string name;
  int arity = 1;
  std::function<std::vector<OpCase>()> cases;  // odd sizes, batch 1, stride 2, ...
};

class LayerRegistry {
 public:
  void add_op(OpInfo info);
  void add(const std::string& op, const std::string& backend, LayerFactory factory);

  bool has(const std::string& op, const std::string& backend) const;
  const OpInfo* op_info(const std::string& op) const;
  // GraphError naming the op, the backend and the backends that do have it.
  std::unique_ptr<Layer> create(const OpParams& params, Backend& backend) const;
  std::vector<std::pair<std::string, std::string>> entries() const;  // (op, backend), sorted

 private:
  std::map<std::string, OpInfo> ops_;
  std::map<std::pair<std::string, std::string>, LayerFactory> factories_;
};

// Loads a shared library exporting `extern "C" void cxrtune_register_plugin(cxr::LayerRegistry&)`
// and calls it. The library stays loaded for the process lifetime. UsageError naming the file
// when it cannot be opened or lacks the symbol.
void load_plugin(const std::string& path, LayerRegistry& registry);

}  // namespace cxr
