#include "engine/layer_registry.h"

#include <dlfcn.h>

#include "engine/backend.h"
#include "engine/errors.h"

namespace cxr {

void LayerRegistry::add_op(OpInfo info) {
  const std::string name = info.name;
  ops_[name] = std::move(info);
}

void LayerRegistry::add(const std::string& op, const std::string& backend, LayerFactory factory) {
  factories_[{op, backend}] = std::move(factory);
}

bool LayerRegistry::has(const std::string& op, const std::string& backend) const {
  return factories_.count({op, backend}) != 0;
}

const OpInfo* LayerRegistry::op_info(const std::string& op) const {
  auto it = ops_.find(op);
  return it == ops_.end() ? nullptr : &it->second;
}

std::unique_ptr<Layer> LayerRegistry::create(const OpParams& params, Backend& backend) const {
  auto it = factories_.find({params.op(), backend.name()});
  if (it == factories_.end()) {
    std::string have;
    for (const auto& [key, _] : factories_)
      if (key.first == params.op()) have += (have.empty() ? "" : ", ") + key.second;
    throw GraphError("no implementation of op '" + params.op() + "' for backend '" +
                     backend.name() + "'" +
                     (have.empty() ? " (unknown op)" : " (available: " + have + ")"));
  }
  return it->second(params, backend);
}

std::vector<std::pair<std::string, std::string>> LayerRegistry::entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, _] : factories_) out.push_back(key);
  return out;
}

void load_plugin(const std::string& path, LayerRegistry& registry) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw UsageError("cannot load plugin " + path + ": " + dlerror());
  using RegisterFn = void (*)(LayerRegistry&);
  auto fn = reinterpret_cast<RegisterFn>(dlsym(handle, "cxrtune_register_plugin"));
  if (!fn) {
    dlclose(handle);
    throw UsageError("plugin " + path + " does not export cxrtune_register_plugin");
  }
  fn(registry);
}

}  // namespace cxr
