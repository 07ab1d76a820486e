#include "engine/layer.h"

#include "core/errors.h"
#include "engine/backend.h"

namespace cxr {

Parameter make_parameter(Backend& backend, const std::string& name, const Shape& shape, bool weight_decay) {
  Parameter p;
  p.name = name;
  p.value = backend.allocate(plain_desc(shape));
  p.grad = backend.allocate(plain_desc(shape));
  p.weight_decay = weight_decay;
  return p;
}

namespace {

// The tensor named `local` (or "<prefix>.<local>"), or null.
template <class Entry>
const Tensor* find_named(const std::vector<Entry>& entries, const std::string& local) {
  for (const Entry& e : entries) {
    const std::string& n = e.name;
    if (n == local || (n.size() > local.size() && n.compare(n.size() - local.size(), local.size(), local) == 0 &&
                       n[n.size() - local.size() - 1] == '.'))
      return &e.value;
  }
  return nullptr;
}

}  // namespace

AbsorbedBatchNorm batchnorm_state(const std::vector<Parameter>& parameters, const std::vector<Buffer>& buffers,
                                  double eps, bool relu, int64_t channels) {
  AbsorbedBatchNorm s;
  s.weight = find_named(parameters, "weight");
  s.bias = find_named(parameters, "bias");
  s.running_mean = find_named(buffers, "running_mean");
  s.running_var = find_named(buffers, "running_var");
  s.eps = eps;
  s.relu = relu;
  s.channels = channels;
  for (const auto& [tensor, name] : {std::pair{s.weight, "weight"}, std::pair{s.bias, "bias"},
                                     std::pair{s.running_mean, "running_mean"}, std::pair{s.running_var, "running_var"}})
    if (!tensor || tensor->numel() != channels)
      throw GraphError(std::string("batchnorm state: no ") + name + " of " + std::to_string(channels) + " values");
  return s;
}

}  // namespace cxr
