// conv2d's test cases: kernels 1/3/7, stride 1 and 2, padding k/2, odd sizes, batch 1, channel
// counts that are and are not multiples of 16, and a biased case.
#include "engine/ops/conv2d.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> conv2d_cases() {
  struct C { int64_t n, cin, h, w, cout, k, s; };
  const C list[] = {{2, 3, 9, 7, 16, 7, 2}, {1, 16, 6, 6, 16, 3, 1}, {2, 17, 5, 7, 5, 1, 1},
                    {2, 16, 7, 7, 32, 1, 2}, {1, 5, 8, 9, 17, 3, 2}};
  std::vector<OpCase> out;
  for (const C& c : list) {
    auto p = std::make_shared<Conv2dParams>();
    p->in_channels = c.cin, p->out_channels = c.cout, p->kernel = c.k, p->stride = c.s;
    p->padding = c.k / 2;
    out.push_back(make_case(p, {{c.n, c.cin, c.h, c.w}}));
  }
  auto biased = std::make_shared<Conv2dParams>();
  biased->in_channels = 4, biased->out_channels = 6, biased->kernel = 3, biased->padding = 1;
  biased->bias = true;
  out.push_back(make_case(biased, {{2, 4, 5, 5}}));
  return out;
}

}  // namespace

OpInfo conv2d_op_info() { return {"conv2d", conv2d_cases}; }

}  // namespace cxr::ops
