// add's test cases: plain and fused ReLU, odd sizes, batch 1.
#include "engine/ops/add.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> add_cases() {
  std::vector<OpCase> out;
  for (bool relu : {false, true})
    for (Shape s : {Shape{2, 16, 5, 7}, Shape{1, 17, 3, 3}}) {
      auto p = std::make_shared<AddParams>();
      p->fuse_relu = relu;
      out.push_back(make_case(p, {s, s}));
    }
  return out;
}

}  // namespace

OpInfo add_op_info() { return {"add", add_cases}; }

}  // namespace cxr::ops
