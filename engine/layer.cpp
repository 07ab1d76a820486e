#include "engine/layer.h"

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

}  // namespace cxr
