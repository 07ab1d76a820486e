// global_avgpool's test cases: the elementwise shapes of op_cases.h.
#include "engine/ops/global_avgpool.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {

OpInfo global_avgpool_op_info() {
  return {"global_avgpool", [] { return unary_cases(std::make_shared<GlobalAvgPoolParams>()); }};
}

}  // namespace cxr::ops
