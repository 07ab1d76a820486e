// maxpool2d's test cases: ResNet's k3 s2 p1 on odd sizes and batch 1, and k2 s2 p0.
#include "engine/ops/maxpool2d.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> maxpool2d_cases() {
  std::vector<OpCase> out;
  for (Shape s : {Shape{2, 16, 9, 7}, Shape{1, 17, 8, 8}, Shape{2, 3, 5, 6}})
    out.push_back(make_case(std::make_shared<MaxPool2dParams>(), {s}));
  auto k2 = std::make_shared<MaxPool2dParams>();
  k2->kernel = 2, k2->stride = 2, k2->padding = 0;
  out.push_back(make_case(k2, {{2, 16, 6, 7}}));
  return out;
}

}  // namespace

OpInfo maxpool2d_op_info() { return {"maxpool2d", maxpool2d_cases}; }

}  // namespace cxr::ops
