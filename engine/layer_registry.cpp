#include "engine/layer_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/errors.h"
#include "engine/backend.h"

namespace cxr {

std::string LayerRegistry::who(const std::string& origin) const {
  return origin.empty() ? "built-in code" : "plugin " + origin;
}

void LayerRegistry::add_op(OpInfo info) {
  const std::string name = info.name;
  if (auto it = op_origins_.find(name); it != op_origins_.end())
    throw GraphError("op '" + name + "' is already defined (by " + who(it->second) + "); " + who(loading_) +
                     " defines it again");
  op_origins_[name] = loading_;
  ops_[name] = std::move(info);
}

void LayerRegistry::add(const std::string& op, const std::string& backend, LayerFactory factory) {
  if (auto it = factories_.find({op, backend}); it != factories_.end())
    throw GraphError("layer '" + op + "' on backend '" + backend + "' is already registered (by " +
                     who(it->second.origin) + "); " + who(loading_) +
                     " registers it again (LayerRegistry::replace overrides an implementation)");
  factories_[{op, backend}] = {std::move(factory), loading_};
}

void LayerRegistry::replace(const std::string& op, const std::string& backend, LayerFactory factory) {
  auto it = factories_.find({op, backend});
  if (it == factories_.end())
    throw GraphError(who(loading_) + " replaces layer '" + op + "' on backend '" + backend +
                     "', which is not registered (use add)");
  // A replaced built-in changes what every run computes: say so on every run, not silently.
  std::fprintf(stderr, "cxrtune: %s replaces layer '%s' on backend '%s' (registered by %s)\n", who(loading_).c_str(),
               op.c_str(), backend.c_str(), who(it->second.origin).c_str());
  it->second = {std::move(factory), loading_};
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
  return it->second.factory(params, backend);
}

std::vector<std::pair<std::string, std::string>> LayerRegistry::entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, _] : factories_) out.push_back(key);
  return out;
}

std::vector<std::string> LayerRegistry::ops() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : ops_) out.push_back(name);
  return out;
}

std::string LayerRegistry::origin(const std::string& op, const std::string& backend) const {
  auto it = factories_.find({op, backend});
  return it == factories_.end() ? "" : it->second.origin;
}

std::string LayerRegistry::op_origin(const std::string& op) const {
  auto it = op_origins_.find(op);
  return it == op_origins_.end() ? "" : it->second;
}

void load_plugin(const std::string& path, LayerRegistry& registry) {
  std::error_code ec;
  const std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
  const std::string key = ec ? path : canonical;
  if (std::find(registry.loaded_.begin(), registry.loaded_.end(), key) != registry.loaded_.end()) return;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw UsageError("cannot load plugin " + path + ": " + dlerror());
  using RegisterFn = void (*)(LayerRegistry&);
  auto fn = reinterpret_cast<RegisterFn>(dlsym(handle, "cxrtune_register_plugin"));
  if (!fn) {
    dlclose(handle);
    throw UsageError("plugin " + path + " does not export cxrtune_register_plugin");
  }
  // Everything the plugin registers is marked with its path, also when it throws half-way.
  struct Loading {
    std::string& slot;
    ~Loading() { slot.clear(); }
  } loading{registry.loading_};
  registry.loading_ = path;
  fn(registry);
  registry.loaded_.push_back(key);
}

}  // namespace cxr
