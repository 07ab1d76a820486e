// relu's test cases: the elementwise shapes of op_cases.h.
#include "engine/ops/relu.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {

OpInfo relu_op_info() {
  return {"relu", [] { return unary_cases(std::make_shared<ReluParams>()); }};
}

}  // namespace cxr::ops
