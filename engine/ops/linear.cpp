// linear's test cases: with and without bias, batch 1, 17 features.
#include "engine/ops/linear.h"

#include <tuple>

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> linear_cases() {
  std::vector<OpCase> out;
  for (auto [n, in, o, bias] : {std::tuple{4, 16, 2, true}, std::tuple{1, 17, 5, true},
                                std::tuple{3, 32, 3, false}}) {
    auto p = std::make_shared<LinearParams>();
    p->in_features = in, p->out_features = o, p->bias = bias;
    out.push_back(make_case(p, {{n, in}}));
  }
  return out;
}

}  // namespace

OpInfo linear_op_info() { return {"linear", linear_cases}; }

}  // namespace cxr::ops
