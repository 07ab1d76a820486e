// sigmoid's test cases: the elementwise shapes of op_cases.h, and a 2-D [N, K] logit matrix
// spread wide (normal(0, 4)) so the saturated tails are exercised too.
#include "engine/ops/sigmoid.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {

OpInfo sigmoid_op_info() {
  return {"sigmoid", [] {
            auto p = std::make_shared<SigmoidParams>();
            std::vector<OpCase> cases = unary_cases(p);
            OpCase wide = make_case(p, {{3, 14}});
            wide.fill = [](size_t, std::span<float> v, std::mt19937& rng) {
              std::normal_distribution<float> normal(0.0f, 4.0f);
              for (float& x : v) x = normal(rng);
            };
            cases.push_back(std::move(wide));
            return cases;
          }};
}

}  // namespace cxr::ops
