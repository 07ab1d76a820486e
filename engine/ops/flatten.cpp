// flatten's test cases: the elementwise shapes of op_cases.h.
#include "engine/ops/flatten.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {

OpInfo flatten_op_info() {
  return {"flatten", [] { return unary_cases(std::make_shared<FlattenParams>()); }};
}

}  // namespace cxr::ops
